ALLOWED_IMAGE_REGEXPS = ['^ud-test/busybox:']
if user_name == 'udtest-bob':
    CAPS_ADD = ['NET_ADMIN']
VOLUME_MOUNTS_DEFAULT.append('/tmp:/tmp')
