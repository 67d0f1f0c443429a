"""Every shorthand form once, params a list in another order, a skopt-like typed object."""


class Real:  # duck-typed like skopt.space.Real
    def __init__(self, low, high, prior="uniform"):
        self.low, self.high, self.prior = low, high, prior


class Problem:
    def __init__(self):
        self.space = {
            "drop": (0, 0.9),
            "epochs": (2, 20),
            "lr": (1e-5, 1e-1, "log-uniform"),
            "units": (8, 512, "log-uniform"),
            "wd": Real(1e-6, 1e-2, "log-uniform"),
            "optimizer": ["adam", "sgd", "rmsprop"],
            "batch_size": [16, 32, 64, 128],
            "fixed": ["relu"],
        }
        self.params = ["lr", "drop", "epochs", "units", "wd", "optimizer", "batch_size", "fixed"]
        self.starting_point = [0.1, 16]
