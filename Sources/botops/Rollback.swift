import ArgumentParser
import BotOpsKit
import Foundation

struct Rollback: HostCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put services back on an earlier release, with its kept image (rebuilt only when it is gone).",
        discussion: """
            Runs playbooks/rollback.yml: lock, check out the target, point each service's image at the kept image
            of that revision, stop, up -d --no-deps, wait healthy, the nine checks.
            --to previous (the default) is, for every service named, the last verified release before the one its
            container runs (judged by its image); --to BRANCH is that branch as it is in the checkout (nothing is
            fetched); --to REV moves the current branch to REV.
            Exit codes: 0 rolled back and the checks pass; 1 failed before anything changed; 2 usage; 3 unreachable;
            4 refused; 5 failed after the checkout or containers changed (the host is left changed), or nothing
            verified it (rollback.yml has no checks step, or a step failed under on_failure: continue).
            --plan cron installs crontab.d as committed at that release (or REV) instead, as cron install --ref
            does; services, checkout and images are not touched.
            """
    )

    enum Plan: String, ExpressibleByArgument {
        case code, cron
    }

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: DeployOutputOptions
    @OptionGroup var blackout: BlackoutOptions

    @Option(name: .long, help: ArgumentHelp("Services to roll back, comma-separated (default: botops.yml's services).", valueName: "names"), transform: parseServiceList)
    var service: [String]?

    @Option(name: .long, help: ArgumentHelp("previous, a branch, or a revision.", valueName: "rev|branch|previous"))
    var to: String?

    @Option(name: .long, help: "code (the services' release) or cron (crontab.d as committed at that release, installed; nothing else changes).")
    var plan: Plan = .code

    func validate() throws {
        if let to, !isGitRef(to) { throw ValidationError("'\(to)' is not a branch or revision name") }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        try await output.reportingErrors { try await rollback(session) }
    }

    func failedToStart(_ error: Error) {
        output.reportFinished(error)
    }

    private func rollback(_ session: CommandSession) async throws -> ExitStatus {
        let config = session.config
        if plan == .cron { return try await rollBackCron(session) }
        try await blackout.check(session, action: "rollback", configPath: connection.config)
        let deployer = try await output.deployer(in: session, configPath: connection.config) { [blackout, connection] in
            // A deploy that waited for the lock may now be inside a window.
            try await blackout.check(session, action: "rollback", configPath: connection.config)
        }
        var request = RollbackRequest(services: service ?? config.services, to: to, command: commandLine())
        request.lockWait = output.lockWait
        return ExitStatus(passingThrough: try await deployer.rollback(request).processExitCode)
    }

    /// `--plan cron`: the entries as committed at the previous verified release (or --to), installed
    /// under the deploy lock with install's own blackout rule; nothing else changes.
    private func rollBackCron(_ session: CommandSession) async throws -> ExitStatus {
        let services = service ?? session.config.services
        let revision = try await CronRollback.revision(to: to, services: services) {
            Deployer.readOnly(config: session.config, runner: try await session.host())
        }
        let directory = blackout.crontabDirectory ?? CronEntries.defaultDirectory(configPath: connection.config)
        let entries = try CronEntries.load(directory: directory, revision: revision)
        let report = try await session.cronService().install(entries, force: blackout.force, lock: session.cronLock(wait: output.lockWait), command: commandLine())
        let destination = try await session.host().destination
        CronRollback.events(revision: revision, services: services, destination: destination, report: report).forEach(output.printer)
        return ExitStatus(.success)
    }
}
