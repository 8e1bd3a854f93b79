"""Suite-wide set-up: torch uses one thread, as the app's jobs do. A machine that shows torch many cores but lends it
two (a shared CI box) would otherwise oversubscribe them and run the suite many times slower."""
import torch

torch.set_num_threads(1)
