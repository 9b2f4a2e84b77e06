/// A stored run's equity curve as a self-contained SVG: equity and its running peak, the drawdown
/// between them shaded, entries (▲) and exits (▼, green for a profit, red for a loss) marked, and
/// a drawdown panel below, dates underneath. Bars are spaced evenly (nights and weekends take no
/// room). Beyond `markerLimit` trades, each trade is a tick on a strip instead.
public enum EquityPlot {
    /// Up to this many trades get their own entry and exit markers.
    static let markerLimit = 300

    public static func svg(_ run: StoredRun, width: Int = 1000, height: Int = 520) -> String {
        let equity = run.equity
        let count = equity.count
        let left = 80.0, right = Double(width) - 20, top = 40.0
        let panelBottom = Double(height) * 0.72, ddTop = panelBottom + 30, bottom = Double(height) - 30
        var peaks = [Double](repeating: 0, count: count)
        var running = -Double.infinity
        for index in 0..<count { running = max(running, equity[index]); peaks[index] = running }
        let low = equity.min() ?? 0, high = max(peaks.max() ?? 1, low + 1e-9)
        let deepest = max(zip(equity, peaks).map { 1 - $0 / $1 }.max() ?? 0, 1e-9)

        func x(_ bar: Int) -> Double { left + (right - left) * Double(bar) / Double(max(count - 1, 1)) }
        func y(_ value: Double) -> Double { panelBottom - (panelBottom - top) * (value - low) / (high - low) }
        func ddY(_ drawdown: Double) -> Double { ddTop + (bottom - ddTop) * drawdown / deepest }
        func f(_ value: Double) -> String { BacktestReport.fixed(value, 1) }

        // At most two points per pixel column (its min and max), so a million bars stay a small file.
        let columns = max(1, Int(right - left))
        let step = max(1, count / columns)
        var sampled: [Int] = []
        for start in stride(from: 0, to: count, by: step) {
            let range = start..<min(start + step, count)
            let lowest = range.min { equity[$0] < equity[$1] } ?? start
            let highest = range.max { equity[$0] < equity[$1] } ?? start
            sampled += lowest < highest ? [lowest, highest] : (lowest == highest ? [lowest] : [highest, lowest])
        }
        let equityPath = sampled.map { "\(f(x($0))),\(f(y(equity[$0])))" }.joined(separator: " L")
        let peakPath = sampled.map { "\(f(x($0))),\(f(y(peaks[$0])))" }.joined(separator: " L")
        let shade = sampled.map { "\(f(x($0))),\(f(y(peaks[$0])))" } + sampled.reversed().map { "\(f(x($0))),\(f(y(equity[$0])))" }
        let ddPath = ["\(f(x(0))),\(f(ddTop))"] + sampled.map { "\(f(x($0))),\(f(ddY(1 - equity[$0] / peaks[$0])))" } + ["\(f(x(count - 1))),\(f(ddTop))"]

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="22" font-size="14">Backtest \(run.id): \(escape(run.strategy)) \(escape(run.parameters)) on \(escape(run.digest.symbol)) \(escape(run.digest.timeframe)), \(isoTime(run.digest.first).prefix(10)) .. \(isoTime(run.digest.last).prefix(10))</text>
            <text x="\(left - 8)" y="\(f(y(high)))" text-anchor="end">\(BacktestReport.fixed(high, 0))</text>
            <text x="\(left - 8)" y="\(f(y(low)))" text-anchor="end">\(BacktestReport.fixed(low, 0))</text>
            <text x="\(left - 8)" y="\(f(ddTop + 10))" text-anchor="end">0 %</text>
            <text x="\(left - 8)" y="\(f(bottom))" text-anchor="end">\(BacktestReport.fixed(-deepest * 100, 1)) %</text>
            <text x="\(left)" y="\(f(ddTop - 6))">drawdown</text>
            <line x1="\(left)" y1="\(f(panelBottom))" x2="\(right)" y2="\(f(panelBottom))" stroke="#ccc"/>
            <polygon points="\(shade.joined(separator: " "))" fill="#e45756" fill-opacity="0.25" stroke="none"><title>drawdown</title></polygon>
            <path d="M\(peakPath)" fill="none" stroke="#999" stroke-dasharray="3,3"/>
            <path d="M\(equityPath)" fill="none" stroke="#1f5fa8" stroke-width="1.4"><title>equity</title></path>
            <polygon points="\(ddPath.joined(separator: " "))" fill="#e45756" fill-opacity="0.5"/>

            """
        // Dates under the drawdown panel at five evenly spaced bars.
        if count == run.equityTimes.count, count > 0 {
            for step in 0...4 {
                let bar = (count - 1) * step / 4
                let anchor = step == 0 ? "start" : (step == 4 ? "end" : "middle")
                svg += "<text x=\"\(f(x(bar)))\" y=\"\(f(bottom + 18))\" text-anchor=\"\(anchor)\">\(isoTime(run.equityTimes[bar]).prefix(10))</text>\n"
            }
        }
        let trades = run.trades.filter { $0.entryBar < count && $0.exitBar < count }
        guard trades.count <= Self.markerLimit else {
            // Too many to mark one by one: each trade's span becomes a tick on a strip under the curve.
            svg += "<text x=\"\(right)\" y=\"22\" text-anchor=\"end\">\(trades.count) trades: spans shown as ticks</text>\n"
            for trade in trades {
                let colour = trade.pnl > .zero ? "#2e8b57" : "#c0392b"
                svg += "<rect x=\"\(f(x(trade.entryBar)))\" y=\"\(f(panelBottom + 4))\" width=\"\(f(max(0.5, x(trade.exitBar) - x(trade.entryBar))))\" height=\"8\" fill=\"\(colour)\"/>\n"
            }
            return svg + "</svg>\n"
        }
        for trade in trades {
            let entryX = x(trade.entryBar), entryY = y(equity[trade.entryBar])
            let exitX = x(trade.exitBar), exitY = y(equity[trade.exitBar])
            let colour = trade.pnl > .zero ? "#2e8b57" : "#c0392b"
            svg += """
                <path d="M\(f(entryX)),\(f(entryY + 2)) l-4,8 h8 z" fill="#1f5fa8"><title>buy \(BacktestReport.trimmed(trade.quantity)) @ \(BacktestReport.trimmed(trade.entryPrice)) \(isoTime(trade.entryTime))</title></path>
                <path d="M\(f(exitX)),\(f(exitY - 2)) l-4,-8 h8 z" fill="\(colour)"><title>sell @ \(BacktestReport.trimmed(trade.exitPrice)) \(isoTime(trade.exitTime)) P&amp;L \(BacktestReport.trimmed(trade.pnl)) (\(trade.exitReason.rawValue))</title></path>

                """
        }
        return svg + "</svg>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}
