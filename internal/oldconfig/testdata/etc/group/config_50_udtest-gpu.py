# GPU group: more GPUs, a shared data mount, and the nvidia executor by default.
NV_MAX_GPU_COUNT_RESERVATION = 4
EXECUTOR_DEFAULT = 'nvidia-docker'
VOLUME_MOUNTS_AVAILABLE = ['/scratch:/scratch', '/data:/input:ro', '/srv/gpu-data:/gpu-data:ro']
