"""tg.backends.cpu: torch.backends.cpu.get_cpu_capability() ('DEFAULT': numpy picks its own kernels)."""


def get_cpu_capability() -> str:
    return "DEFAULT"
