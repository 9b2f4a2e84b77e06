import ArgumentParser
import Engine

struct Linkage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Linkage rate: the share of executed trades linked to a strategy snapshot.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Window in hours (1 to 1000000).") var hours: Int = 6

    func validate() throws {
        // Beyond about a century the window's start leaves what a timestamp holds.
        guard (1...1_000_000).contains(hours) else { throw ValidationError("--hours: must be between 1 and 1000000") }
    }

    func run() async throws {
        let stats = try await database.withConnection { try await TradeStore($0).linkageStats(hours: hours) }
        let rate = stats.rate.map { "\(Int(($0 * 1000).rounded()) / 10).\(Int(($0 * 1000).rounded()) % 10)%" } ?? "n/a"
        print("total_trades \(stats.total)  linked_trades \(stats.linked)  linkage_pct \(rate)  late_links \(stats.late)")
    }
}
