"""Provider adapters. httpx lives here and nowhere else."""
