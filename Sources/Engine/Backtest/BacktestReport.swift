import Foundation

/// Text and JSON views of stored runs (show, list, compare): read from the stored rows only.
public enum BacktestReport {
    public static func show(_ run: StoredRun, trades: Bool, equity: Bool) -> String {
        var lines = [
            "Backtest \(run.id)  (\(run.createdAt), \(run.engineVersion))",
            "strategy      \(run.strategy) \(run.parameters)",
            "bars          \(run.digest.symbol) \(run.digest.timeframe), \(run.digest.count) bars, \(isoTime(run.digest.first)) .. \(isoTime(run.digest.last)), hash \(run.digest.hash)",
            "range         \(run.rangeStart) .. \(run.rangeEnd)",
            "settings      \(run.settings)",
            "conventions   \(run.conventions)",
        ]
        if run.openQuantity != .zero { lines.append("open at end   \(run.openQuantity) units (not in the trades; marked to market in equity)") }
        lines.append("")
        for field in BacktestMetrics.fields {
            lines.append(pad(field.label, 26) + format(run.metrics[keyPath: field.keyPath], field.kind))
        }
        if trades {
            lines += ["", "Trades"]
            lines.append(row(["#", "entry", "exit", "qty", "entry price", "exit price", "fees", "P&L", "return %", "exit"], widths: tradeWidths))
            for (number, trade) in run.trades.enumerated() {
                lines.append(row([String(number + 1), isoTime(trade.entryTime), isoTime(trade.exitTime), trimmed(trade.quantity),
                                  trimmed(trade.entryPrice), trimmed(trade.exitPrice), trimmed(trade.fees), trimmed(trade.pnl),
                                  fixed(trade.returnFraction * 100, 4), trade.exitReason.rawValue], widths: tradeWidths))
            }
        }
        if equity {
            lines += ["", "Equity", "time,equity"]
            for (time, value) in zip(run.equityTimes, run.equity) { lines.append("\(isoTime(time)),\(postgresFloat(value))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static let tradeWidths = [4, 21, 21, 10, 13, 13, 12, 13, 10, 11]

    /// The run as one JSON object (metrics by their column names; NaN and infinities as null).
    public static func json(_ run: StoredRun, trades: Bool, equity: Bool) -> String {
        var object: [String: Any] = [
            "id": run.id, "created_at": run.createdAt, "engine_version": run.engineVersion, "strategy": run.strategy,
            "parameters": parsed(run.parameters), "settings": parsed(run.settings), "conventions": parsed(run.conventions),
            "range": ["start": run.rangeStart, "end": run.rangeEnd],
            "bars": ["symbol": run.digest.symbol, "timeframe": run.digest.timeframe, "first": isoTime(run.digest.first),
                     "last": isoTime(run.digest.last), "count": run.digest.count, "hash": run.digest.hash],
            "open_quantity": run.openQuantity.description,
            "metrics": Dictionary(uniqueKeysWithValues: BacktestMetrics.fields.map { ($0.name, jsonNumber(run.metrics[keyPath: $0.keyPath])) }),
        ]
        if trades {
            object["trades"] = run.trades.map { trade -> [String: Any] in
                ["entry_bar": trade.entryBar, "exit_bar": trade.exitBar, "entry_time": isoTime(trade.entryTime), "exit_time": isoTime(trade.exitTime),
                 "quantity": trade.quantity.description, "entry_price": trade.entryPrice.description, "exit_price": trade.exitPrice.description,
                 "fees": trade.fees.description, "pnl": trade.pnl.description, "return_pct": jsonNumber(trade.returnFraction * 100),
                 "exit_reason": trade.exitReason.rawValue]
            }
        }
        if equity {
            object["equity"] = zip(run.equityTimes, run.equity).map { ["time": isoTime($0), "equity": jsonNumber($1)] as [String: Any] }
        }
        return jsonText(object)
    }

    public static func list(_ runs: [BacktestStore.Summary]) -> String {
        let widths = [6, 20, 10, 26, 12, 42, 7, 10, 8, 10]
        var lines = [row(["id", "created", "strategy", "parameters", "bars", "range", "trades", "return %", "sharpe", "max dd %"], widths: widths)]
        for run in runs {
            lines.append(row([String(run.id), String(run.createdAt.prefix(19)), run.strategy, run.parameters, "\(run.symbol) \(run.timeframe)",
                              "\(run.firstBar.prefix(16)) .. \(run.lastBar.prefix(16))", String(run.trades), fixed(run.returnPercent, 2),
                              fixed(run.sharpe, 3), fixed(run.maxDrawdownPercent, 2)], widths: widths))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Runs side by side, one column each, one line per metric.
    public static func compare(_ runs: [StoredRun]) -> String {
        let width = max(14, runs.map { max($0.parameters.count, $0.strategy.count) + 2 }.max() ?? 0)
        func line(_ label: String, _ values: [String]) -> String {
            (pad(label, 26) + values.map { pad($0, width) }.joined()).trimmingTrailingSpaces()
        }
        var lines = [
            line("run", runs.map { String($0.id) }),
            line("strategy", runs.map(\.strategy)),
            line("parameters", runs.map(\.parameters)),
            line("bars", runs.map { "\($0.digest.symbol) \($0.digest.timeframe) ×\($0.digest.count)" }),
            line("first bar", runs.map { isoTime($0.digest.first) }),
            line("last bar", runs.map { isoTime($0.digest.last) }),
            line("bars hash", runs.map { String($0.digest.hash.prefix(12)) }),
        ]
        for field in BacktestMetrics.fields {
            lines.append(line(field.label, runs.map { format($0.metrics[keyPath: field.keyPath], field.kind) }))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func compareJSON(_ runs: [StoredRun]) -> String {
        "[" + runs.map { json($0, trades: false, equity: false).trimmingTrailingSpaces() }.joined(separator: ",\n") + "]\n"
    }

    static func format(_ value: Double, _ kind: BacktestMetrics.Kind) -> String {
        guard value.isFinite else { return value.isNaN ? "-" : (value > 0 ? "inf" : "-inf") }
        switch kind {
        case .percent: return fixed(value, 4)
        case .money: return fixed(value, 2)
        case .ratio: return fixed(value, 4)
        case .count: return String(Int64(value))
        case .duration: return duration(value)
        }
    }

    /// `3d 04:05:00` or `04:05:00`.
    static func duration(_ seconds: Double) -> String {
        let total = Int64(seconds)
        let clock = [total % 86_400 / 3600, total % 3600 / 60, total % 60].map { $0 < 10 ? "0\($0)" : String($0) }.joined(separator: ":")
        return total >= 86_400 ? "\(total / 86_400)d \(clock)" : clock
    }

    static func fixed(_ value: Double, _ decimals: Int) -> String {
        value.isFinite ? String(format: "%.\(decimals)f", value) : (value.isNaN ? "-" : (value > 0 ? "inf" : "-inf"))
    }

    /// 12.50000000 → 12.5
    static func trimmed(_ amount: Amount) -> String {
        var text = amount.description
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func row(_ fields: [String], widths: [Int]) -> String {
        zip(fields, widths).map { pad($0, $1) }.joined().trimmingTrailingSpaces()
    }

    static func jsonNumber(_ value: Double) -> Any { value.isFinite ? value : NSNull() }

    static func parsed(_ json: String) -> Any {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) ?? json
    }

    static func jsonText(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " || text.last == "\n" { text.removeLast() }
        return text
    }
}
