"""`tg.nn.utils`: helpers around modules and parameters (torch.nn.utils names)."""
