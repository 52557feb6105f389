"""The fraud model, pure and database-free: features from history (batch and one at a time), the
gradient-boosted classifier, the handbook's metrics, the backtest and the payment simulator."""
