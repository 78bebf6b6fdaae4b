"""`tg.utils.data`: Dataset, TensorDataset, Subset, random_split, DataLoader."""
