"""`tg.optim`: optimisers with torch's update rules; `tg.optim.lr_scheduler`."""
