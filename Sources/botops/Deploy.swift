import ArgumentParser
import BotOpsKit

struct Deploy: HostCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deploy services from git: locked, verified, rolled back to the kept image on failure, audited.",
        discussion: """
            Runs playbooks/deploy.yml (next to botops.yml): lock, preflight (clean checkout on the branch, known
            services, db and its external volume still declared, free disk), baseline checks, keep the running
            image, fetch and fast-forward (or check out --ref), build --no-cache, stop, up -d --no-deps, wait
            healthy, the nine checks. A failure after the checkout moved runs playbooks/rollback.yml: the previous
            revision and its kept image, without a rebuild.
            With deploy.backup: true in botops.yml, a verified backup of the ledger comes first (timed apart);
            if it fails the deploy is refused (exit 4) unless --no-backup.
            Exit codes: 0 deployed; 1 failed and rolled back (the host is healthy); 2 usage or config error;
            3 host unreachable; 4 refused (lock held, dirty checkout, not a fast-forward, blackout window, database
            down); 5 failed and the host is left changed (the rollback failed, or --no-rollback / on_failure: abort),
            or rolled back with nothing verifying it (rollback.yml without a checks step, or a rollback step
            failed under on_failure: continue).
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: DeployOutputOptions
    @OptionGroup var blackout: BlackoutOptions

    @Option(name: .long, help: ArgumentHelp("Services to deploy, comma-separated (e.g. sighook,webhook).", valueName: "names"), transform: parseServiceList)
    var service: [String]?

    @Flag(name: .long, help: "Deploy every service in botops.yml's services.")
    var all = false

    @Option(name: .long, help: ArgumentHelp("A branch (fast-forwarded) or revision to deploy instead of botops.yml's branch.", valueName: "branch|rev"))
    var ref: String?

    @Flag(name: .customLong("dry-run"), help: "Run only read-only probes, then print every command the deploy would run and what it would change.")
    var dryRun = false

    @Flag(name: .customLong("no-rollback"), help: "On failure, leave the host as the failed step left it.")
    var noRollback = false

    @Flag(name: .long, help: "Roll back on any failing check, even one that failed before the deploy.")
    var strict = false

    @Flag(name: .long, help: "Accepted for scripts; deploy never asks for confirmation (the lock, the preflight and the rollback guard it).")
    var yes = false

    @Flag(name: .long, help: "Deploy even though the database is down before it: the checks that need it are skipped and the release is recorded unverified.")
    var unverified = false

    @Flag(name: .customLong("no-backup"), help: "Skip the backup botops.yml's deploy.backup: true takes before a deploy.")
    var noBackup = false

    @Flag(name: .customLong("host-files"), help: "Only the host's scripts and queries changed: pull (fast-forward), restore their modes, verify. No build, no container touched.")
    var hostFiles = false

    func validate() throws {
        if hostFiles {
            guard service == nil, !all else { throw ValidationError("--host-files deploys no service: drop --service/--all") }
            // No host-files plan exists: the request would run the real host-files deploy.
            guard !dryRun else { throw ValidationError("--dry-run plans a service deploy only; --host-files has no dry run (git -C PATH diff shows what it would pull)") }
        } else {
            guard (service != nil) != all else { throw ValidationError("name the services with --service NAME[,NAME…], or pass --all") }
        }
        if let ref, !isGitRef(ref) { throw ValidationError("'\(ref)' is not a branch or revision name") }
    }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        try await output.reportingErrors { try await deploy(session) }
    }

    func failedToStart(_ error: Error) {
        output.reportFinished(error)
    }

    private func deploy(_ session: CommandSession) async throws -> ExitStatus {
        let config = session.config
        if !dryRun { try await blackout.check(session, action: "deploy", configPath: connection.config) }
        if config.deploy.backup, !noBackup, !dryRun {
            try await PreDeployBackup(session: session, command: commandLine(), lockWait: output.lockWait).run()
        }
        let deployer = try await output.deployer(in: session, configPath: connection.config) { [blackout, connection] in
            // A deploy that waited for the lock may now be inside a window.
            try await blackout.check(session, action: "deploy", configPath: connection.config)
        }
        var request = DeployRequest(services: hostFiles ? [] : all ? config.services : service ?? [], ref: ref, command: commandLine())
        request.dryRun = dryRun
        request.noRollback = noRollback
        request.strict = strict
        request.unverified = unverified
        request.lockWait = output.lockWait
        let outcome = hostFiles ? try await deployer.deployHostFiles(request) : try await deployer.deploy(request)
        return ExitStatus(passingThrough: outcome.processExitCode)
    }
}

extension DeployOutputOptions {
    /// Runs a deploy or rollback; in JSON mode a refusal or error still ends with a `finished`
    /// event carrying its exit code, so CI reading events alone sees how the command ended.
    func reportingErrors(_ body: () async throws -> ExitStatus) async throws -> ExitStatus {
        do {
            return try await body()
        } catch {
            if !(error is CancellationError) { reportFinished(error) }
            throw error
        }
    }

    /// In JSON mode, the `finished` event of a command that `error` ended.
    func reportFinished(_ error: Error) {
        if format == .json { printer(.finished(DeployOutcome(error: error))) }
    }
}

/// Branch names and revisions as git accepts them on a command line botops builds (no leading
/// '-', no spaces or shell-special characters, no '..').
func isGitRef(_ ref: String) -> Bool {
    guard let first = ref.first, first != "-", !ref.contains(".."), ref.count <= 200 else { return false }
    return ref.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-".contains($0)) }
}
