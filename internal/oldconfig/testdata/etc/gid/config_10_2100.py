RUN_PULL = 'never'
