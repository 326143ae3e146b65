# -*- coding: utf-8 -*-
# Test fixture for `userdocker config import`: a site config.py in the shape
# of the Python userdocker's default config (same settings, same kinds of
# values), written for these tests.
from . import uid, gid, user_name, group_name, user_home

LOGLVL = 'INFO'

EXECUTORS = {
    'docker': '/usr/bin/docker',
    'nvidia-docker': '/usr/bin/nvidia-docker',
}
EXECUTOR_DEFAULT = 'docker'

ALLOWED_SUBCOMMANDS = [
    'attach',
    'dockviz',  # tree of images
    'images',
    'load',
    'ps',
    'pull',
    'run',
    'version',
]

ARGS_ALWAYS = {
    'run': [
        # '-t',
        '--rm',
    ],
}

ARGS_AVAILABLE = {
    'attach': ['--no-stdin'],
    'images': [('-a', '--all'), '--digests', ('-q', '--quiet')],
    'ps': [('-a', '--all'), ('-q', '--quiet'), '--no-trunc'],
    'run': [
        ('-t', '--tty'),
        ('-i', '--interactive'),
        '--read-only',
        '--shm-size=8g',
    ],
}

VOLUME_MOUNTS_ALWAYS = []
VOLUME_MOUNTS_AVAILABLE = ['/scratch:/scratch', "/data:/input:ro", '/srv/projects:']
VOLUME_MOUNTS_DEFAULT = [
    # '/etc/passwd:/etc/passwd:ro',
    user_home + ':' + user_home,
]

PROBE_USED_MOUNTS = True

ALLOWED_IMAGE_REGEXPS = [
    r'^[A-Za-z_].*',
]

RUN_PULL = 'default'

USER_IN_CONTAINER = True

CAPS_DROP = ['ALL']
CAPS_ADD = []

ALLOWED_PORT_MAPPINGS = [
    r'^127\.0\.0\.1::[0-9]+$',
    '^[0-9]+$',
]

ENV_VARS = [
    'HOME=' + user_home,
    """LANG=C.UTF-8""",
]
ENV_VARS_EXT = {
    'nvidia-docker': ['NCCL_DEBUG=WARN'],
}

NVIDIA_SMI = '/usr/bin/nvidia-smi'
NV_ALLOWED_GPUS = 'ALL'
NV_DEFAULT_GPU_COUNT_RESERVATION = 1
NV_MAX_GPU_COUNT_RESERVATION = 2
NV_GPU_UNAVAILABLE_ABOVE_MEMORY_USED = 0
NV_EXCLUSIVE_CONTAINER_GPU_RESERVATION = True
NV_ALLOW_OWN_GPU_REUSE = True
