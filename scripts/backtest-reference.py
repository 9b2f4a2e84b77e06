#!/usr/bin/env python3
"""Runs a bot-engine built-in strategy in backtesting.py 0.6.6 on the same bars, for the golden
test and the benchmark. Indicators are computed with exactly the operations the engine uses (exact
integer window sums for SMA, Wilder's recursion for RSI), so both see bit-identical indicator
values; everything else (fills, sizing, commissions, trades, statistics) is backtesting.py's own.

  backtest-reference.py BARS.csv SPEC.json   ->  JSON on stdout: {"trades": [...], "stats": {...}, "seconds": ...}

BARS.csv: ts,open,high,low,close,volume,close_units (ts in epoch seconds, prices as decimals).
SPEC.json: {"strategy": "sma-cross"|"rsi", "params": {...}, "cash": 10000, "commission":
{"rate": r, "fixed": f, "minimum": m}, "fill": "open"|"close", "risk_free_rate": 0, "repeat": 1,
"stop_loss": fraction|null, "take_profit": fraction|null (both only with "fill": "close")}
"""
import csv, json, math, sys, time, warnings

import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover


def sma_exact(units, n):
    out = np.full(len(units), np.nan)
    total = 0
    for i, u in enumerate(units):
        total += int(u)
        if i >= n:
            total -= int(units[i - n])
        if i >= n - 1:
            out[i] = total / 1e8 / n
    return out


def rsi_wilder(units, period):
    out = np.full(len(units), np.nan)
    gain_avg = loss_avg = 0.0
    for i in range(1, len(units)):
        change = float(int(units[i]) - int(units[i - 1]))
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        if i <= period:
            gain_avg += gain
            loss_avg += loss
            if i < period:
                continue
            gain_avg /= period
            loss_avg /= period
        else:
            gain_avg = (gain_avg * (period - 1) + gain) / period
            loss_avg = (loss_avg * (period - 1) + loss) / period
        out[i] = 100.0 if loss_avg == 0 else 100 - 100 / (1 + gain_avg / loss_avg)
    return out


# Stop-loss / take-profit as fractions of the entry price. backtesting.py takes absolute prices
# when the order is placed, so they are only like-for-like with fills at the close (the entry
# price is then this bar's close).
BRACKETS = {"stop_loss": None, "take_profit": None}


def brackets(close):
    out = {}
    if BRACKETS["stop_loss"] is not None:
        out["sl"] = close * (1 - BRACKETS["stop_loss"])
    if BRACKETS["take_profit"] is not None:
        out["tp"] = close * (1 + BRACKETS["take_profit"])
    return out


def sma_pandas(close, n):
    return pd.Series(close).rolling(n).mean()


class SmaCross(Strategy):
    fast = 10
    slow = 50
    # The benchmark times backtesting.py as its users write it (pandas rolling means); the golden
    # test uses the engine's exact sums.
    pandas = False

    def init(self):
        if self.pandas:
            self.fast_sma = self.I(sma_pandas, self.data.Close, self.fast)
            self.slow_sma = self.I(sma_pandas, self.data.Close, self.slow)
            return
        units = self.data.df["CloseUnits"].values
        self.fast_sma = self.I(sma_exact, units, self.fast)
        self.slow_sma = self.I(sma_exact, units, self.slow)

    def next(self):
        if crossover(self.fast_sma, self.slow_sma) and not self.position:
            self.buy(**brackets(self.data.Close[-1]))
        elif crossover(self.slow_sma, self.fast_sma) and self.position:
            self.position.close()


class Rsi(Strategy):
    period = 14
    low = 30.0
    high = 70.0

    def init(self):
        self.rsi = self.I(rsi_wilder, self.data.df["CloseUnits"].values, self.period)

    def next(self):
        if not self.position and self.rsi[-1] < self.low:
            self.buy(**brackets(self.data.Close[-1]))
        elif self.position and self.rsi[-1] > self.high:
            self.position.close()


STRATEGIES = {"sma-cross": SmaCross, "rsi": Rsi}


def load(path):
    # Python's float() parses decimals correctly rounded, as the engine does.
    rows = list(csv.DictReader(open(path)))
    index = pd.to_datetime([int(r["ts"]) for r in rows], unit="s")
    return pd.DataFrame({
        "Open": [float(r["open"]) for r in rows],
        "High": [float(r["high"]) for r in rows],
        "Low": [float(r["low"]) for r in rows],
        "Close": [float(r["close"]) for r in rows],
        "Volume": [float(r["volume"]) for r in rows],
        "CloseUnits": [int(r["close_units"]) for r in rows],
    }, index=index)


def number(value):
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    value = float(value)
    return None if math.isnan(value) else value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")


STATS = {
    "return_pct": "Return [%]", "buy_hold_return_pct": "Buy & Hold Return [%]", "annual_return_pct": "Return (Ann.) [%]",
    "cagr_pct": "CAGR [%]", "annual_volatility_pct": "Volatility (Ann.) [%]", "sharpe": "Sharpe Ratio",
    "sortino": "Sortino Ratio", "calmar": "Calmar Ratio", "max_drawdown_pct": "Max. Drawdown [%]",
    "avg_drawdown_pct": "Avg. Drawdown [%]", "max_drawdown_duration_s": "Max. Drawdown Duration",
    "avg_drawdown_duration_s": "Avg. Drawdown Duration", "exposure_pct": "Exposure Time [%]",
    "equity_final": "Equity Final [$]", "equity_peak": "Equity Peak [$]", "fees_paid": "Commissions [$]",
    "trades": "# Trades", "win_rate_pct": "Win Rate [%]", "best_trade_pct": "Best Trade [%]",
    "worst_trade_pct": "Worst Trade [%]", "avg_trade_pct": "Avg. Trade [%]", "max_trade_duration_s": "Max. Trade Duration",
    "avg_trade_duration_s": "Avg. Trade Duration", "profit_factor": "Profit Factor", "expectancy_pct": "Expectancy [%]",
    "sqn": "SQN",
}


def main():
    bars_path, spec_path = sys.argv[1:3]
    spec = json.load(open(spec_path))
    data = load(bars_path)
    strategy = STRATEGIES[spec["strategy"]]
    c = spec.get("commission", {})
    rate, fixed, minimum = c.get("rate", 0.0), c.get("fixed", 0.0), c.get("minimum", 0.0)

    def commission(size, price):
        return max(minimum, fixed + abs(size) * price * rate)

    BRACKETS["stop_loss"], BRACKETS["take_profit"] = spec.get("stop_loss"), spec.get("take_profit")
    warnings.simplefilter("ignore")
    repeat = int(spec.get("repeat", 1))
    start = time.perf_counter()
    for _ in range(repeat):
        bt = Backtest(data, strategy, cash=spec.get("cash", 10000), commission=commission,
                      trade_on_close=spec.get("fill", "open") == "close")
        stats = bt.run(**spec.get("params", {}))
    seconds = (time.perf_counter() - start) / repeat
    trades = stats["_trades"]
    risk_free = spec.get("risk_free_rate", 0.0)
    if risk_free:
        # Backtest.run computes with a risk-free rate of 0; the library's own compute_stats takes one.
        from backtesting._stats import compute_stats
        again = compute_stats(trades=trades, equity=stats["_equity_curve"]["Equity"].values, ohlc_data=data,
                              strategy_instance=stats["_strategy"], risk_free_rate=risk_free)
        for label in ("Sharpe Ratio", "Sortino Ratio"):
            stats[label] = again[label]
    out = {
        "seconds": seconds,
        "equity": [float(x) for x in stats["_equity_curve"]["Equity"].values],
        "trades": [{
            "entry_bar": int(t.EntryBar), "exit_bar": int(t.ExitBar), "size": float(t.Size),
            "entry_price": float(t.EntryPrice), "exit_price": float(t.ExitPrice), "pnl": float(t.PnL),
            "commission": float(t.Commission), "return": float(t.ReturnPct),
        } for t in trades.itertuples()],
        "stats": {key: number(stats.get(label, float("nan"))) for key, label in STATS.items()},
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
