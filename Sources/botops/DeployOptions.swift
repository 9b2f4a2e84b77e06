import ArgumentParser
import BotOpsKit
import Foundation
import Remote

/// Options `deploy` and `rollback` share.
struct DeployOutputOptions: ParsableArguments {
    @Option(name: .long, help: "text (a line per step, output indented, a summary) or json (one event per line, for CI).")
    var format: EventFormat = .text

    @OptionGroup var lock: LockWaitOption
    var lockWait: Duration? { lock.lockWait }

    /// A deployer with botops.yml's playbooks, printing its events. It takes the lock through the
    /// session (which releases it on every way out), stops at a step boundary on Ctrl-C or
    /// SIGTERM, and runs `afterLock` (the blackout window, judged again) once the lock is held.
    func deployer(in session: CommandSession, configPath: String?,
                  afterLock: @escaping @Sendable () async throws -> Void = {}) async throws -> Deployer {
        let config = session.config
        let path = configPath ?? HostSelection.defaultConfigPath
        let deployPlaybook = try config.deploy.loadPlaybook(.deploy, configPath: path)
        let rollbackPlaybook = try config.deploy.loadPlaybook(.rollback, configPath: path)
        for warning in deployPlaybook.warnings + rollbackPlaybook.warnings { printer(.warning(warning)) }
        let deployer = Deployer(
            config: config, deployPlaybook: deployPlaybook, rollbackPlaybook: rollbackPlaybook,
            runner: try await session.host(), interruption: session.interruption, emit: printer)
        deployer.acquireLock = { holder, wait, onWaiting, onStep in
            try await session.acquireDeployLock(as: holder, wait: wait, onWaiting: onWaiting, onStep: onStep)
        }
        deployer.afterLock = afterLock
        return deployer
    }

    /// Prints each event as it happens, in the chosen format.
    var printer: @Sendable (DeployEvent) -> Void {
        let format = format
        return { event in
            let line = format == .json ? JSONEventRenderer().render(event) : TextEventRenderer().render(event)
            // Written at once, also into a pipe or a CI log (print would buffer it until exit).
            if let line { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        }
    }
}

enum EventFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// "90s", "10m", "1h", "500ms" (botops.yml's durations).
func parseDurationFlag(_ text: String) throws -> Duration {
    guard let duration = parseTimeLimit(text) else {
        throw ValidationError("'\(text)' is not a duration: use e.g. 30s, 10m or 1h (at most 24h)")
    }
    return duration
}

/// "sighook,webhook" → ["sighook", "webhook"], each a valid service name.
func parseServiceList(_ text: String) throws -> [String] {
    let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !names.isEmpty else { throw ValidationError("--service needs at least one name, e.g. --service sighook,webhook") }
    for name in names where !Name.isValid(name) {
        throw ValidationError("'\(name)' is not a service name (letters, digits, '_', '.', '-')")
    }
    return names
}

/// The command line as typed, for the lock holder record and the audit.
func commandLine() -> String {
    (["botops"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
}

