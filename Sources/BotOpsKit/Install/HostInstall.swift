import Checks
import Foundation
import HostCommands
import Remote

/// `botops install-host`: botops, botops.yml, crontab.d and the playbook overrides copied to
/// `~/botops/` on the host (no root), so that cron there can run `~/botops/bin/botops … --local`.
/// The binary is judged against the host before anything is copied, and proven by running
/// `--version` there before it replaces the installed one.
public struct HostInstall: Sendable {
    /// One file to copy; `remote` is relative to the host's `~/botops`.
    public struct File: Sendable, Equatable {
        public var local: String
        public var remote: String
        public var mode: String

        public init(local: String, remote: String, mode: String) {
            self.local = local
            self.remote = remote
            self.mode = mode
        }
    }

    public let binary: String
    /// The bot-engine to install beside botops: `--engine-binary`, else one beside `binary`.
    public let engine: Engine?
    public let files: [File]
    let database: BotOpsConfig.Database
    /// What botops.yml names that is not copied, each with why.
    public let skipped: [Skipped]
    /// The crontab.d entries the host keeps (the others there are removed); nil when there is no
    /// crontab.d beside botops.yml: the host's is left as it is.
    public let pruneKeeping: [String]?
    /// The playbook overrides absent here, removed on the host (relative to `~/botops`): its
    /// deploys would still run one deleted here.
    public let overridesToRemove: [String]

    /// The files beside `configPath`: the config itself, every `crontab.d/*.cron` and each
    /// playbook file that overrides a built-in one.
    public init(binary: String, engineBinary: String? = nil, configPath: String, config: BotOpsConfig) throws {
        self.binary = binary
        let manager = FileManager.default
        if let engineBinary {
            guard manager.fileExists(atPath: engineBinary) else {
                throw ELFError(path: engineBinary, problem: "does not exist: pass --engine-binary a bot-engine built for Linux")
            }
            engine = Engine(path: engineBinary, named: true)
        } else {
            let beside = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("bot-engine").path
            engine = manager.isExecutableFile(atPath: beside) ? Engine(path: beside, named: false) : nil
        }
        database = config.database
        guard manager.fileExists(atPath: configPath) else {
            throw ConfigError(file: configPath, problem: "no such file: install-host copies botops.yml to the host; pass --config PATH")
        }
        var files = [File(local: configPath, remote: "botops.yml", mode: "600")]
        let crontab = CronEntries.defaultDirectory(configPath: configPath)
        var skipped: [Skipped] = []
        // Only a crontab.d that was read prunes the host's: one unreadable here (a file in its
        // place, a link to nowhere) read as empty would delete every entry there.
        var status = stat()
        if lstat(crontab, &status) != 0, errno == ENOENT {
            pruneKeeping = nil
            skipped.append(Skipped(what: "crontab.d", why: "there is no \(crontab): the host's ~/botops/crontab.d is left as it is"))
        } else {
            let names: [String]
            do { names = try manager.contentsOfDirectory(atPath: crontab).filter { $0.hasSuffix(".cron") }.sorted() } catch {
                throw ConfigError(file: crontab, problem: "cannot read the directory, and reading it as empty would delete every crontab.d entry on the host. "
                    + "Make it a readable directory (or remove it to leave the host's entries as they are), then run install-host again; nothing was copied")
            }
            files += names.map { File(local: crontab + "/" + $0, remote: "crontab.d/" + $0, mode: "644") }
            pruneKeeping = names
        }
        if engine == nil {
            skipped.append(Skipped(what: "bot-engine", why: "no bot-engine beside \(binary): pass --engine-binary PATH (a Linux bot-engine) to install it; crontab.d's bars-prune runs ~/botops/bin/bot-engine"))
        }
        let playbooks = config.deploy.playbooks
        // Only what lies beside botops.yml is copied: the host's botops.yml would name a directory
        // the host does not have, and its deploys would fall back to the built-in playbooks unseen.
        guard !playbooks.hasPrefix("/"), !playbooks.split(separator: "/").contains("..") else {
            let directory = URL(fileURLWithPath: configPath).deletingLastPathComponent().path
            throw ConfigError(file: configPath, key: "playbooks", problem: "\(playbooks) lies outside botops.yml's directory, and install-host copies only what lies "
                + "beside botops.yml (on the host, \(playbooks) would not hold the overrides: deploys there would use the built-in playbooks). "
                + "Move the overrides into \(directory)/playbooks and set `playbooks: playbooks`, then run install-host again; nothing was copied")
        }
        let directory = URL(fileURLWithPath: configPath).deletingLastPathComponent().appendingPathComponent(playbooks).path
        var absent: [String] = []
        for name in Playbook.Kind.allCases.map(\.fileName) + [RecoverPlaybook.fileName] {
            if manager.fileExists(atPath: directory + "/" + name) {
                files.append(File(local: directory + "/" + name, remote: playbooks + "/" + name, mode: "644"))
            } else {
                absent.append(playbooks + "/" + name)
            }
        }
        overridesToRemove = absent
        self.files = files
        self.skipped = skipped
    }

    public struct Engine: Sendable, Equatable {
        public var path: String
        /// Named with --engine-binary: one the host cannot run refuses the install. One merely
        /// found beside botops is skipped with the reason instead.
        public var named: Bool
    }

    public struct Skipped: Sendable, Equatable {
        public var what: String
        public var why: String
    }

    /// Where botops lives on the host, relative to its home.
    public static let binaryPath = "botops/bin/botops"
    public static let enginePath = "botops/bin/bot-engine"

    public struct Outcome: Sendable {
        public var runtime: HostRuntime
        public var elf: ELFFacts
        /// `~/botops/bin/botops --version` on the host; nil in a dry run.
        public var hostVersion: String?
        /// The sha256 the host computes of each file in place (`botops/bin/botops`, …, relative to
        /// its home), read after the install; empty in a dry run.
        public var installed: [(path: String, sha256: String)] = []
        /// The crontab.d entries and playbook overrides removed on the host because they were
        /// deleted here (relative to `~/botops`).
        public var removed: [String] = []
        /// `~/botops/bin/bot-engine --version` once installed; nil when none was.
        public var engineVersion: String?
        /// A bot-engine found beside botops that the host cannot run, so not copied.
        public var engineSkipped: [RuntimeProblem] = []
        /// What became of `~/botops/engine.env` (in a dry run: what would).
        public var engineEnv: EngineEnvFile.Outcome?
    }

    /// Refuses (nothing copied) when the host cannot run the binary; otherwise copies everything
    /// unless `dryRun`.
    public func run(on runner: some CommandRunner, dryRun: Bool, timeout: Duration = .seconds(600)) async throws -> Outcome {
        let elf = try ELFFacts(path: binary)
        let runtime = try await HostRuntime.Probe().hostProbe.run(on: runner)
        let problems = runtime.problems(running: elf)
        guard problems.isEmpty else { throw HostInstallError.cannotRun(binary: binary, problems: problems) }
        var outcome = Outcome(runtime: runtime, elf: elf)
        var engine = engine
        if let found = engine {
            let engineProblems = runtime.problems(running: try ELFFacts(path: found.path))
            if !engineProblems.isEmpty {
                guard !found.named else { throw HostInstallError.cannotRun(binary: found.path, problems: engineProblems) }
                outcome.engineSkipped = engineProblems
                engine = nil
            }
        }
        if dryRun {
            outcome.engineEnv = try await writeEngineEnv(on: runner, dryRun: true)
            return outcome
        }

        let directories = Set(files.map { ("botops/" + $0.remote as NSString).deletingLastPathComponent } + ["botops/bin"]).sorted()
        try InstallCommands.succeeded(try await runner.run(InstallCommands.makeDirectories(directories)).result, "create ~/botops")
        // The new binary proves itself under a name of its own before it replaces the installed one.
        // One name, not one per run: the caller holds the deploy lock (two install-hosts at once
        // would move each other's binary), and a run cut short leaves no more than one stray copy.
        // Both binaries prove themselves before either replaces its installed one: a bot-engine
        // that fails leaves the installed botops as it was too.
        _ = try await stage(binary, at: Self.binaryPath, on: runner, timeout: timeout)
        if let engine {
            outcome.engineVersion = try await stage(engine.path, at: Self.enginePath, alsoStaged: [Self.binaryPath], on: runner, timeout: timeout)
        }
        for path in [Self.binaryPath] + (engine == nil ? [] : [Self.enginePath]) {
            try InstallCommands.succeeded(try await runner.run(InstallCommands.moveIntoPlace(path)).result,
                                          "move \((path as NSString).lastPathComponent) into place")
        }
        for file in files {
            try await Upload(localPath: file.local, remotePath: "~/botops/" + file.remote, mode: file.mode).run(on: runner, timeout: timeout)
        }
        // An entry deleted here must not linger there, where `verify --local` reads crontab.d.
        if let keep = pruneKeeping {
            outcome.removed = try await InstallCommands.prune(keep: keep).run(on: runner).map { "crontab.d/" + $0 }
        }
        outcome.removed += try await InstallCommands.removeFiles(overridesToRemove).run(on: runner)
        switch try await HostProgramVersion.probe(Self.binaryPath).run(on: runner) {
        case .version(let version): outcome.hostVersion = version
        case .failed(_, let output): throw HostInstallError.installedVersionFailed(output: output)
        case .timedOut(let seconds): throw HostInstallError.installedVersionFailed(output: "timed out after \(seconds) s")
        case .notInstalled: throw HostInstallError.installedVersionFailed(output: "not there, or not executable")
        }
        outcome.engineEnv = try await writeEngineEnv(on: runner, dryRun: false)
        outcome.installed = try await installedDigests(on: runner, engine: engine != nil)
        return outcome
    }

    /// Uploads `local` to `path.new` (relative to the host's home) and runs its `--version` there;
    /// returns what it printed. On failure `path.new` and the `alsoStaged` ones are removed.
    private func stage(_ local: String, at path: String, alsoStaged: [String] = [], on runner: some CommandRunner, timeout: Duration) async throws -> String {
        let staged = path + ".new"
        try await Upload(localPath: local, remotePath: "~/" + staged, mode: "755").run(on: runner, timeout: timeout)
        let failure: String
        switch try await HostProgramVersion.probe(staged).run(on: runner) {
        case .version(let version): return version
        case .failed(_, let output): failure = output
        case .timedOut(let seconds): failure = "timed out after \(seconds) s"
        case .notInstalled: failure = "not executable there"
        }
        _ = try? await runner.run(InstallCommands.removeStaged([path] + alsoStaged))
        throw HostInstallError.versionFailed(program: (path as NSString).lastPathComponent, output: failure)
    }

    /// `~/botops/engine.env` for the crontab.d entries that run bot-engine: created from the db
    /// container's port when it does not exist, never replaced; when the port cannot be told,
    /// nothing is written and the outcome says what the operator writes.
    /// With `dryRun`, only says what it would do (`.wouldCreate`), writing nothing.
    private func writeEngineEnv(on runner: some CommandRunner, dryRun: Bool) async throws -> EngineEnvFile.Outcome {
        let probe = EngineDatabaseURL.Probe(container: database.container, user: database.user, database: database.name)
        let instructions = EngineEnvFile.instructions(user: database.user, database: database.name)
        switch try await probe.hostProbe.run(on: runner) {
        case .failure(let unknown):
            return try await InstallCommands.engineEnvExists.run(on: runner) ? .kept : .notCreated(reason: unknown.reason, instructions: instructions)
        case .success(let url):
            if dryRun {
                return try await InstallCommands.engineEnvExists.run(on: runner) ? .kept : .wouldCreate
            }
            return try await InstallCommands.createEngineEnv(line: url.envLine).run(on: runner)
        }
    }

    /// The binaries and files this run copies (`remote` relative to `~/botops`), as listed to the operator.
    public func copied(_ outcome: Outcome?) -> [File] {
        let engineFile = engine.flatMap { outcome?.engineSkipped.isEmpty != false ? File(local: $0.path, remote: "bin/bot-engine", mode: "755") : nil }
        return [File(local: binary, remote: "bin/botops", mode: "755")] + (engineFile.map { [$0] } ?? []) + files
    }

    /// Every path installed, relative to the host's home, the binary first.
    public func installedPaths(engine: Bool) -> [String] {
        [Self.binaryPath] + (engine ? [Self.enginePath] : []) + files.map { "botops/" + $0.remote }
    }

    /// What is in place now, as the host's own sha256sum reads it (one round trip).
    private func installedDigests(on runner: some CommandRunner, engine: Bool) async throws -> [(path: String, sha256: String)] {
        do {
            return try await FileDigest.probe(installedPaths(engine: engine)).run(on: runner).map { (path: $0.name, sha256: $0.sha256) }
        } catch let error as ProbeOutputError {
            throw HostInstallError.step("read the installed files' sha256", output: error.output)
        }
    }
}

public enum HostInstallError: Error, CustomStringConvertible, ExitCodeProviding {
    case cannotRun(binary: String, problems: [RuntimeProblem])
    case versionFailed(program: String, output: String)
    /// The new botops, already in place, failed its `--version` there after all.
    case installedVersionFailed(output: String)
    case step(String, output: String)

    public var description: String {
        switch self {
        case .cannotRun(let binary, let problems):
            return "refused: the host cannot run \(binary); nothing was copied:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        case .versionFailed(let program, let output):
            return "the copied \(program) does not run on the host (`\(program) --version` failed: \(terminalSafe(output.trimmingCharacters(in: .whitespacesAndNewlines)))); "
                + "the installed one, if any, was left in place"
        case .installedVersionFailed(let output):
            return "~/\(HostInstall.binaryPath) is the new botops and `~/\(HostInstall.binaryPath) --version` failed there "
                + "(\(terminalSafe(output.trimmingCharacters(in: .whitespacesAndNewlines)))), though it ran under its temporary name a moment before; "
                + "cron's scheduled runs use it: run it on the host to see why, then install-host again (the previous botops is gone)"
        case .step(let what, let output):
            return "could not \(what) on the host: \(terminalSafe(output.trimmingCharacters(in: .whitespacesAndNewlines)))"
        }
    }

    public var exitCode: BotOpsExitCode {
        switch self {
        case .cannotRun: .refused
        case .versionFailed, .step: .failed
        case .installedVersionFailed: .needsHuman
        }
    }
}

extension UploadError: ExitCodeProviding {
    public var exitCode: BotOpsExitCode { .failed }
}
