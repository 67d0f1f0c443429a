"""The early-stopping benchmark's parts (``asbench.runners.early_stopping`` runs them).

``evaluations``: a finished evaluation, the accounting of steps and of the best
fully-trained objective, and reading a kept experiment; ``binary``: a search of
the built program with a stopper; ``optuna_side``: Optuna's TPE with its
pruners on the same models; ``tc1``: TC1 trained in this process for Optuna;
``tables``: the summaries, tables and targets printed.
"""
