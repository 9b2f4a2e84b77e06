import ArgumentParser
import BotOpsKit
import Cron
import Foundation

extension GateFormat: ExpressibleByArgument {}

struct Gate: HostCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say whether a deploy may start now (for CI, before botops deploy).",
        discussion: """
            Gates: blackout (no crontab.d entry fires within its blackout window), clean-checkout \
            (git status on the host is empty), branch (the checkout is on botops.yml's branch), services \
            (deploy's compose check of --service, else botops.yml's services), deploy-lock (free), host-reachable, checks (judged as deploy judges them: checks already \
            failing are tolerated unless --strict; the database down is refused, as deploy refuses it). Each gate's verdict is printed. \
            Exit codes: 0 go, 4 refused (blackout window, or one that cannot be judged because the host's time zone is unreadable; \
            dirty checkout, wrong branch, a service deploy refuses, lock held, the database down), 3 host \
            unreachable or the connection lost during a gate (never read as a refusal), 1 a check failed (--strict), 2 usage or config error.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "text, json or junit.")
    var format: GateFormat = .text

    @Option(name: .long, help: ArgumentHelp("The service about to be deployed (one of botops.yml's services).", valueName: "name"))
    var service: String?

    @Option(name: .long, help: "Also write the report in --format to FILE (atomically); the text goes to stdout.")
    var output: String?

    @Option(name: .customLong("crontab-dir"), help: ArgumentHelp("The crontab.d directory (default: crontab.d beside botops.yml, when there is one).", valueName: "dir"))
    var crontabDirectory: String?

    @Option(name: .long, help: ArgumentHelp("Judge the blackout windows at this UTC instant instead of now, e.g. 2026-11-30T17:05:00Z (to rehearse a deploy time).", valueName: "instant"), transform: parseInstant)
    var at: Int64?

    @Option(name: .long, help: ArgumentHelp("Seconds each check's commands may take (at most 86400).", valueName: "seconds"), transform: parseSeconds)
    var timeout: Duration = .seconds(60)

    @Flag(name: .long, help: "As deploy --strict: a check already failing fails the gate (by default deploy tolerates checks failing before it, and so does the gate).")
    var strict = false

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let config = session.config
        if let service, !config.services.contains(service) {
            throw ConfigError(file: connection.config ?? HostSelection.defaultConfigPath, key: "services",
                              problem: "--service \(service) is not one of \(config.services.joined(separator: ", "))")
        }
        let destination = try output.map(ReportOutput.init(path:))
        let entries = try CronEntries.managed(crontabDirectory: crontabDirectory, configPath: connection.config)
        let gate = BotOpsKit.Gate(config: config, entries: entries, service: service, at: at ?? Int64(Date().timeIntervalSince1970), checkTimeout: timeout, strict: strict)
        let report = await gate.run(destination: config.host) { try await session.host() }
        if let destination {
            print(GateFormat.text.render(report), terminator: "")
            try destination.write(format.render(report))
        } else {
            print(format.render(report), terminator: "")
        }
        return ExitStatus(report.exitCode)
    }
}
