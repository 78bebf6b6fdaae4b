"""nn.functional: conv ops (torch.nn.functional names and semantics)."""
__all__: list = []
