"""`tg.nn.modules`: one file per layer family; every layer is composed from nn.functional."""
