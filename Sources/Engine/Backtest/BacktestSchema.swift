/// Stored backtests: a run row (what ran, on which bars, with which conventions, and every metric),
/// its trades, and its equity curve in chunks of packed bar times and values (a million-bar curve
/// is a hundred rows, not a million, written in tens of milliseconds). An applied migration never changes: a new
/// metric needs a new migration.
let backtestMigrations = [
    Migration(version: 20, name: "backtests", sql: """
        CREATE TABLE backtest_runs (
            id              bigserial PRIMARY KEY,
            created_at      timestamptz NOT NULL DEFAULT now(),
            engine_version  text NOT NULL,
            strategy        text NOT NULL,
            parameters      jsonb NOT NULL,
            settings        jsonb NOT NULL,
            conventions     jsonb NOT NULL,
            range_start     timestamptz NOT NULL,
            range_end       timestamptz NOT NULL,
            symbol          text NOT NULL,
            timeframe       text NOT NULL,
            first_bar       timestamptz NOT NULL,
            last_bar        timestamptz NOT NULL,
            bar_count       integer NOT NULL,
            bars_hash       text NOT NULL,
            open_quantity   numeric(20, 8) NOT NULL,
            -- metrics (BacktestMetrics.fields; NaN where undefined)
            return_pct              double precision NOT NULL,
            buy_hold_return_pct     double precision NOT NULL,
            annual_return_pct       double precision NOT NULL,
            cagr_pct                double precision NOT NULL,
            annual_volatility_pct   double precision NOT NULL,
            sharpe                  double precision NOT NULL,
            sortino                 double precision NOT NULL,
            calmar                  double precision NOT NULL,
            max_drawdown_pct        double precision NOT NULL,
            avg_drawdown_pct        double precision NOT NULL,
            max_drawdown_duration_s double precision NOT NULL,
            avg_drawdown_duration_s double precision NOT NULL,
            exposure_pct            double precision NOT NULL,
            equity_final            double precision NOT NULL,
            equity_peak             double precision NOT NULL,
            fees_paid               double precision NOT NULL,
            trades                  double precision NOT NULL,
            win_rate_pct            double precision NOT NULL,
            best_trade_pct          double precision NOT NULL,
            worst_trade_pct         double precision NOT NULL,
            avg_trade_pct           double precision NOT NULL,
            max_trade_duration_s    double precision NOT NULL,
            avg_trade_duration_s    double precision NOT NULL,
            profit_factor           double precision NOT NULL,
            expectancy_pct          double precision NOT NULL,
            sqn                     double precision NOT NULL
        );
        CREATE INDEX backtest_runs_strategy ON backtest_runs (strategy, id);

        CREATE TABLE backtest_trades (
            run_id       bigint NOT NULL REFERENCES backtest_runs (id) ON DELETE CASCADE,
            seq          integer NOT NULL,
            entry_bar    integer NOT NULL,
            exit_bar     integer NOT NULL,
            entry_time   timestamptz NOT NULL,
            exit_time    timestamptz NOT NULL,
            quantity     numeric(20, 8) NOT NULL,
            entry_price  numeric(20, 8) NOT NULL,
            exit_price   numeric(20, 8) NOT NULL,
            fees         numeric(38, 8) NOT NULL,
            pnl          numeric(38, 8) NOT NULL,
            return_pct   double precision NOT NULL,
            exit_reason  text NOT NULL,
            PRIMARY KEY (run_id, seq)
        );

        -- Bar times and equity at each bar's close, in order, packed: `times` holds 8-byte
        -- little-endian integers (seconds since 1970, UTC), `equity` 8-byte little-endian IEEE 754
        -- doubles, `points` of each per chunk. Stored uncompressed (they do not compress).
        CREATE TABLE backtest_equity (
            run_id  bigint NOT NULL REFERENCES backtest_runs (id) ON DELETE CASCADE,
            chunk   integer NOT NULL,
            points  integer NOT NULL,
            times   bytea NOT NULL,
            equity  bytea NOT NULL,
            PRIMARY KEY (run_id, chunk)
        );
        ALTER TABLE backtest_equity ALTER COLUMN times SET STORAGE EXTERNAL, ALTER COLUMN equity SET STORAGE EXTERNAL;
        """),
]
