import ArgumentParser
import BotOpsKit
import Cron
import Foundation

struct StatusCommand: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The host at a glance: services, checkout, lock, last deploy, cron, newest report and backup, disk, botops versions.",
        discussion: """
            Reads only; one round of probes over one connection. Exit codes: 0 the host was read (whatever it \
            showed), 2 usage or config error, 3 host unreachable or the connection was lost. With --watch, \
            reads again every SECONDS until interrupted; --format json then prints one object per line.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "text or json.")
    var format: EventFormat = .text

    @Option(name: .long, help: ArgumentHelp("Read the host again every SECONDS (1 to 86400) until interrupted.", valueName: "seconds"))
    var watch: Int?

    @Option(name: .customLong("crontab-dir"), help: ArgumentHelp("crontab.d, whose entries are shown (default: crontab.d beside botops.yml, when there is one).", valueName: "dir"))
    var crontabDirectory: String?

    func validate() throws {
        if let watch, !(1...86_400).contains(watch) { throw ValidationError("--watch takes a number of seconds from 1 to 86400") }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let entries = try CronEntries.managed(crontabDirectory: crontabDirectory, configPath: connection.config)
        let reader = StatusReader(config: session.config, runner: try await session.host(), entries: entries, localVersion: BotOpsVersion.current)
        let colour = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        while true {
            let status = try await reader.read()
            // Written straight to the file descriptor, so a --watch reader gets each screen (or JSON line) at once.
            let clear = watch != nil && colour ? "\u{1B}[H\u{1B}[2J" : ""
            let text = format == .json ? status.json + "\n" : clear + StatusText(colour: colour).render(status)
            FileHandle.standardOutput.write(Data(text.utf8))
            guard let watch else { return ExitStatus(.success) }
            try await Task.sleep(for: .seconds(watch))
        }
    }
}
