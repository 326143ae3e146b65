ARGS_ALWAYS = {'run': ['--rm', '--shm-size=1g']}
PROBE_USED_MOUNTS = False
DOCKVIZ_IMAGE = 'nate/dockviz'
