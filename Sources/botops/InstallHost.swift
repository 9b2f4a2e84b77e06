import ArgumentParser
import BotOpsKit
import Foundation

/// `botops install-host`: puts botops and its files in `~/botops/` on the host, for cron there.
struct InstallHost: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-host",
        abstract: "Copy a Linux botops, botops.yml, crontab.d and playbook overrides to ~/botops/ on the host.",
        discussion: """
            Checks first that the host can run the binary (architecture, glibc, the shared libraries \
            it links, no Swift runtime libraries needed), naming the Debian package for anything \
            missing; then copies each file atomically over the same connection and runs \
            ~/botops/bin/botops --version there. Exit codes: 0 installed, 1 a copy or the host's \
            --version failed (the installed botops is kept), 2 usage, 3 unreachable, 4 refused \
            (the host cannot run the binary, or the deploy lock is held: --lock-wait waits for it; \
            nothing copied), 5 the new botops is in place and its \
            --version failed there after all.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("The Linux botops to install (default: this botops, when it runs on Linux).", valueName: "path"))
    var binary: String?

    @Option(name: .customLong("engine-binary"), help: ArgumentHelp("The Linux bot-engine to install beside botops (default: the bot-engine beside the botops installed, when there is one).", valueName: "path"))
    var engineBinary: String?

    @Flag(name: .customLong("dry-run"), help: "Check the host and list what would be copied; copy nothing.")
    var dryRun = false

    @Option(name: .long, help: "text, or json (one object: what was installed, or the error and its exit code).")
    var format: EventFormat = .text

    @OptionGroup var lock: LockWaitOption
    var lockWait: Duration? { lock.lockWait }

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let files: HostInstall
        do {
            let configPath = connection.config ?? HostSelection.defaultConfigPath
            files = try HostInstall(binary: try binaryPath(), engineBinary: engineBinary, configPath: configPath, config: session.config)
        } catch {
            if format == .json { print(InstallReport.json(error: error, install: nil, dryRun: dryRun)) }
            throw error
        }
        // Ctrl-C or SIGTERM cancels the work and is waited for: the deploy lock is released once
        // the step in flight has stopped, and the report (JSON too) says interrupted, with the exit
        // code the process ends with (abandoned, the body was cut off before it said anything).
        let work = Task { try await install(files, session) }
        session.interruption.onRequest(stillRunning: { "install-host's copy in flight (its part is removed when the channel closes)" }) { _ in work.cancel() }
        do {
            let outcome = try await work.value
            if format == .json {
                print(InstallReport.json(files, outcome, dryRun: dryRun))
            } else {
                printText(files, outcome)
            }
            warnings(files, outcome)
            return ExitStatus(.success)
        } catch {
            // A lost connection says more than the interruption: the lifecycle reports it (exit 3).
            if let signal = session.interruption.signal, BotOpsExitCode(for: error) != .unreachable {
                if format == .json { print(InstallReport.json(interruptedBy: signal, install: files, dryRun: dryRun)) }
                FileHandle.standardError.write(Data("botops: \(HostInstallInterrupted(signal: signal))\n".utf8))
                return ExitStatus(passingThrough: 128 + signal)
            }
            if format == .json { print(InstallReport.json(error: error, install: files, dryRun: dryRun)) }
            throw error
        }
    }

    /// Takes the deploy lock (not for a dry run) and installs.
    private func install(_ files: HostInstall, _ session: CommandSession) async throws -> HostInstall.Outcome {
        if !dryRun {
            // Two install-hosts at once would swap each other's binaries; a deploy, backup or
            // crontab change holds it too, and the refusal names the holder.
            // The refusal's advice is --lock-wait: it waits here too.
            _ = try await session.acquireDeployLock(as: .current(command: commandLine(), step: "install-host"), wait: lockWait, onWaiting: { holder in
                FileHandle.standardError.write(Data("botops: waiting for the deploy lock (\(holder.map { terminalSafe($0.summary) } ?? "held")), up to --lock-wait\n".utf8))
            })
        }
        return try await files.run(on: try await session.host(), dryRun: dryRun)
    }

    func failedToStart(_ error: Error) {
        if format == .json { print(InstallReport.json(error: error, install: nil, dryRun: dryRun)) }
    }

    private func printText(_ install: HostInstall, _ outcome: HostInstall.Outcome) {
        let glibc = outcome.runtime.glibc.map { "glibc \($0)" } ?? "no glibc reported"
        print("host: \(outcome.runtime.machine), \(glibc); \(install.binary): \(outcome.elf.machine), needs glibc \(outcome.elf.glibc.map { "\($0)" } ?? "none")")
        for file in install.copied(outcome) {
            print("\(dryRun ? "would copy" : "copied") \(file.local) -> ~/botops/\(file.remote)")
        }
        for path in outcome.removed { print("removed ~/botops/\(path) (deleted here)") }
        for skipped in install.skipped { print("skipped \(skipped.what): \(skipped.why)") }
        if let version = outcome.hostVersion { print("~/\(HostInstall.binaryPath) --version: \(version)") }
        if let version = outcome.engineVersion { print("~/\(HostInstall.enginePath) --version: \(version)") }
        switch outcome.engineEnv {
        case .created: print("created ~/\(EngineEnvFile.path) (mode 600): bot-engine's BOT_DATABASE_URL, from the db container's port; the password goes in ~/.pgpass")
        case .wouldCreate: print("would create ~/\(EngineEnvFile.path) (mode 600): bot-engine's BOT_DATABASE_URL, from the db container's port")
        case .kept: print("\(dryRun ? "would keep" : "kept") ~/\(EngineEnvFile.path) as it is")
        case .notCreated, nil: break
        }
    }

    /// On stderr whatever the format: the install went through (exit 0) with something left to do.
    private func warnings(_ install: HostInstall, _ outcome: HostInstall.Outcome) {
        var warnings: [String] = []
        if let engine = install.engine, !outcome.engineSkipped.isEmpty {
            warnings.append("\(engine.path) not copied, the host cannot run it: " + outcome.engineSkipped.map { "\($0)" }.joined(separator: "; "))
        }
        if case .notCreated(let reason, let instructions) = outcome.engineEnv {
            warnings.append("~/\(EngineEnvFile.path) not created: \(reason); \(instructions)")
        }
        for warning in warnings { FileHandle.standardError.write(Data("botops: warning: \(warning)\n".utf8)) }
    }

    private func binaryPath() throws -> String {
        if let binary { return binary }
        #if os(Linux)
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        #else
        throw ValidationError("this botops is not a Linux build: pass --binary a botops built for Linux (the README's \"A Linux botops from a Mac\")")
        #endif
    }
}
