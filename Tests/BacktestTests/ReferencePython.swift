import Engine
import Foundation
import SandboxSupport

/// backtesting.py 0.6.6 in the throwaway virtualenv that `scripts/backtest-venv` makes (scripts/test
/// runs it). Without the venv the golden tests skip, except under BOTOPS_REQUIRE_SANDBOX (CI),
/// where they fail.
enum ReferencePython {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = packageRoot.appendingPathComponent("scripts/backtest-reference.py").path
    static let python = ProcessInfo.processInfo.environment["BOTOPS_BACKTESTING_PYTHON"]
        ?? packageRoot.appendingPathComponent(".build/backtesting-venv/bin/python3").path

    static var installed: Bool { FileManager.default.isExecutableFile(atPath: python) }
    static var required: Bool { ProcessInfo.processInfo.environment["BOTOPS_REQUIRE_SANDBOX"] != nil }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "backtesting.py venv missing at \(python): run scripts/backtest-venv (scripts/test does)" }
    }

    struct Output: Decodable {
        struct Trade: Decodable {
            var entry_bar: Int
            var exit_bar: Int
            var size: Double
            var entry_price: Double
            var exit_price: Double
            var pnl: Double
            var commission: Double
            var `return`: Double
        }
        var seconds: Double
        var equity: [Double]
        var trades: [Trade]
        var stats: [String: Number?]
    }

    /// A JSON number, or the strings "Infinity" / "-Infinity".
    struct Number: Decodable {
        var value: Double
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                value = number
            } else {
                value = try container.decode(String.self) == "Infinity" ? .infinity : -.infinity
            }
        }
    }

    /// Runs `spec` (see the script's doc) on `bars` in backtesting.py.
    static func run(_ bars: BarSeries, spec: [String: Any]) async throws -> Output {
        guard installed else { throw Missing() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let barsPath = directory.appendingPathComponent("bars.csv")
        var csv = "ts,open,high,low,close,volume,close_units\n"
        for index in 0..<bars.count {
            csv += "\(bars.times[index]),\(decimal(bars.open[index])),\(decimal(bars.high[index])),\(decimal(bars.low[index])),\(decimal(bars.close[index])),\(bars.volume[index]),\(bars.closeUnits[index])\n"
        }
        try csv.write(to: barsPath, atomically: true, encoding: .utf8)
        let specPath = directory.appendingPathComponent("spec.json")
        try JSONSerialization.data(withJSONObject: spec).write(to: specPath)

        let stdout = directory.appendingPathComponent("out.json")
        let (python, script) = (python, script)
        // The reference backtest takes seconds: on a thread of its own, never on the cooperative pool.
        let (status, errorText) = try await onOwnThread { () -> Result<(Int32, String), Error> in
            Result {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: python)
                process.arguments = [script, barsPath.path, specPath.path]
                _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
                let errors = Pipe()
                process.standardOutput = try FileHandle(forWritingTo: stdout)
                process.standardError = errors
                try process.run()
                let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (process.terminationStatus, errorText)
            }
        }.get()
        guard status == 0 else {
            throw ScriptFailed(description: "backtest-reference.py exited \(status): \(errorText)")
        }
        return try JSONDecoder().decode(Output.self, from: Data(contentsOf: stdout))
    }

    struct ScriptFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// The exact decimal text of a price held to 8 decimals.
    static func decimal(_ price: Double) -> String {
        let units = Int64((price * 1e8).rounded())
        let fraction = String(units % 100_000_000)
        return "\(units / 100_000_000)." + String(repeating: "0", count: 8 - fraction.count) + fraction
    }
}
