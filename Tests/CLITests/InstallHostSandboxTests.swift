@testable import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `botops install-host` against the sandbox host, as user bot over ssh: the statically linked
/// release build is installed into ~/botops and runs there; the debug build (which links the
/// Swift runtime's shared libraries) is refused before anything is copied. Each test puts bot's
/// ~/botops back as it found it.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct InstallHostSandboxTests {
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox.require()
    }

    /// `.build/…/release/botops`, built with the Swift runtime linked in when it is not there yet
    /// (scripts/demo builds it too), and bot-engine beside it, which install-host takes along.
    /// `swift test` holds .build's lock while tests run, hence --ignore-lock: this build writes
    /// only the release directory, which the test run does not use.
    static func releaseBinary() async throws -> String {
        let debug = URL(fileURLWithPath: BuiltBinary.botops.path).deletingLastPathComponent()
        let release = debug.deletingLastPathComponent().appendingPathComponent("release")
        for product in ["botops", "bot-engine"] where !FileManager.default.isExecutableFile(atPath: release.appendingPathComponent(product).path) {
            let build = ["swift", "build", "--package-path", BuiltBinary.packageRoot, "-c", "release", "--static-swift-stdlib", "--product", product, "--ignore-lock"]
            let built = try await LocalHost().run(shellCommand(build), timeout: .seconds(3600))
            try #require(built.succeeded, "\(build.joined(separator: " ")): \(built.stderrText.suffix(2000))")
        }
        return release.appendingPathComponent("botops").path
    }

    /// A botops.yml for the sandbox with the shipped crontab.d and a playbook override beside it.
    func operatorDirectory() throws -> URL {
        let directory = try temporaryDirectory()
        let manager = FileManager.default
        try manager.copyItem(atPath: sandbox.configFile, toPath: directory.appendingPathComponent("botops.yml").path)
        try manager.copyItem(atPath: BuiltBinary.packageRoot + "/crontab.d", toPath: directory.appendingPathComponent("crontab.d").path)
        try manager.createDirectory(at: directory.appendingPathComponent("playbooks"), withIntermediateDirectories: true)
        try manager.copyItem(atPath: BuiltBinary.packageRoot + "/playbooks/deploy.yml", toPath: directory.appendingPathComponent("playbooks/deploy.yml").path)
        return directory
    }

    /// Runs `body` under the sandbox lock with bot's ~/botops moved aside, and puts it back after.
    func withoutHostBotops(_ body: (SSHConnection) async throws -> Void) async throws {
        let lock = try await SandboxLock.acquire()
        defer { lock.release() }
        try await sandbox.withoutHostBotops(body)
    }

    @Test func installsTheStaticBuildWhichRunsOnTheHostAsBot() async throws {
        let binary = try await Self.releaseBinary()
        let local = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        let config = local.appendingPathComponent("botops.yml").path
        try await withoutHostBotops { host in
            let dry = try await BuiltBinary.botops.run(["install-host", "--config", config, "--binary", binary, "--dry-run"])
            #expect(dry.termination == .exited(0), "\(dry.stderrText)")
            #expect(dry.stdoutText.contains("would copy \(binary) -> ~/botops/bin/botops"))
            #expect(dry.stdoutText.contains("would create ~/botops/engine.env (mode 600)"), "\(dry.stdoutText)")
            #expect(try await host.run("cd && [ ! -e botops ]").succeeded, "--dry-run copied something")

            let result = try await BuiltBinary.botops.run(["install-host", "--config", config, "--binary", binary])
            #expect(result.termination == .exited(0), "\(result.stderrText)")
            let expected = try await LocalHost().run(shellCommand([binary, "--version"])).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(result.stdoutText.contains("~/botops/bin/botops --version: \(expected)"), "\(result.stdoutText)")

            // Run by bot on the host, as cron will: the same version, and every file in place.
            let there = try await host.run("cd && ~/botops/bin/botops --version && stat -c '%a %n' botops/bin/botops botops/bin/bot-engine botops/botops.yml botops/engine.env botops/crontab.d/backup.cron botops/playbooks/deploy.yml && ls -A botops/bin")
            #expect(there.succeeded, "\(there.stderrText)")
            #expect(there.stdoutText == "\(expected)\n755 botops/bin/botops\n755 botops/bin/bot-engine\n600 botops/botops.yml\n600 botops/engine.env\n644 botops/crontab.d/backup.cron\n644 botops/playbooks/deploy.yml\nbot-engine\nbotops\n")

            // bot-engine, found beside botops, runs there too; engine.env names the db container's
            // port (the sandbox's db is on the host's network, PGPORT 55432), and is never replaced.
            let engine = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("bot-engine").path
            let engineVersion = try await LocalHost().run(shellCommand([engine, "--version"])).stdoutText
            #expect(try await host.run("botops/bin/bot-engine --version").stdoutText == engineVersion)
            #expect(result.stdoutText.contains("created ~/botops/engine.env (mode 600)"), "\(result.stdoutText)")
            #expect(!result.stdoutText.contains("postgres://") && !result.stderrText.contains("postgres://"), "engine.env's value was printed")
            let env = try await host.run("grep -v '^#' botops/engine.env")
            #expect(env.stdoutText == "BOT_DATABASE_URL=postgres://bot_user@127.0.0.1:55432/bot_trader_db\n")
            // Following the README (the password in ~/.pgpass), bot-engine reaches the ledger with
            // engine.env sourced as crontab.d's entries source it; without ~/.pgpass it cannot.
            // One script, so ~/.pgpass is gone again whatever happens; the password never leaves the host.
            let connect = "cd ~/botops && (set -a && . ./engine.env && set +a && ./bin/bot-engine linkage --hours 1)"
            let connects = try await host.run("""
                [ ! -e ~/.pgpass ] || { echo 'bot has a ~/.pgpass already' >&2; exit 9; }
                \(connect) 2>&1 | grep -q 'no password supplied' || { echo 'connected without a password' >&2; exit 8; }
                umask 077 && printf '127.0.0.1:55432:bot_trader_db:bot_user:%s\\n' "$(sed -n 's/^POSTGRES_PASSWORD=//p' \(sandbox.app)/.env)" > ~/.pgpass
                \(connect); rc=$?; rm -f ~/.pgpass; exit $rc
                """)
            #expect(connects.succeeded, "\(connects.stdoutText)\(connects.stderrText)")
            #expect(connects.stdoutText.hasPrefix("total_trades "), "\(connects.stdoutText)")
            #expect(try await host.run("echo 'BOT_DATABASE_URL=postgres://mine@127.0.0.1:1/x' > botops/engine.env").succeeded)
            let weekly = try await host.run("cat botops/crontab.d/weekly-verify.cron")
            #expect(weekly.stdout == Array(try Data(contentsOf: local.appendingPathComponent("crontab.d/weekly-verify.cron"))))

            // The installed copy is what status compares: this build's own version string.
            #expect(expected.hasPrefix(BotOpsVersion.number + " ("))

            // Installing again replaces atomically and drops an entry deleted here.
            try FileManager.default.removeItem(at: local.appendingPathComponent("crontab.d/backup.cron"))
            let again = try await BuiltBinary.botops.run(["install-host", "--config", config, "--binary", binary])
            #expect(again.termination == .exited(0), "\(again.stderrText)")
            #expect(try await host.run("cd && [ ! -e botops/crontab.d/backup.cron ] && [ -f botops/crontab.d/weekly-verify.cron ]").succeeded)
            #expect(again.stdoutText.contains("kept ~/botops/engine.env as it is"), "\(again.stdoutText)")
            #expect(try await host.run("cat botops/engine.env").stdoutText == "BOT_DATABASE_URL=postgres://mine@127.0.0.1:1/x\n")
        }
    }

    /// Ctrl-C while the binary is on its way (botops stopped with SIGSTOP once its part is on the
    /// host, so the upload is surely unfinished): exit 130, the installed botops still the old
    /// one and still running, no part left once the host's copy has noticed the closed channel, the
    /// JSON saying interrupted (130) and the deploy lock free.
    @Test func anInterruptedUploadKeepsTheInstalledBotopsAndLeavesNoPart() async throws {
        let binary = try await Self.releaseBinary()
        let local = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        try await withoutHostBotops { host in
            #expect(try await host.run("mkdir -p botops/bin && printf '#!/bin/sh\\necho old\\n' > botops/bin/botops && chmod 755 botops/bin/botops").succeeded)
            let config = local.appendingPathComponent("botops.yml").path
            let running = try RunningBinary(["install-host", "--config", config, "--binary", binary, "--format", "json"])
            let pid = running.process.processIdentifier
            var stopped = false
            for _ in 0..<2000 where !stopped {
                if try await host.run("ls -A botops/bin").stdoutText.contains(".botops-upload.") {
                    kill(pid, SIGSTOP)
                    stopped = true
                }
            }
            try #require(stopped, "the upload's part never appeared on the host")
            let part = try await host.run("ls -A botops/bin").stdoutText
            kill(pid, SIGINT)
            kill(pid, SIGCONT)
            let output = String(decoding: running.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let (exit, stderr) = running.exitStatus()
            try #require(part.contains(".botops-upload."), "the upload ended before botops was stopped: \(part)")
            #expect(exit == 130, "\(stderr)")
            // The JSON says so, with the exit code the process ends with (it said "failed", 1).
            let report = try Self.object(output)
            #expect(report["outcome"] as? String == "interrupted", "\(output)")
            #expect(report["exit_code"] as? Int == 130, "\(output)")
            #expect(stderr.contains("install-host interrupted (SIGINT)"), "\(stderr)")
            // And the deploy lock it took is free again.
            let lock = try await BuiltBinary.botops.run(["lock", "status", "--config", config])
            #expect(lock.stdoutText.hasPrefix("free"), "\(lock.stdoutText)\(lock.stderrText)")

            // The host's copy ends once sshd closes its channel: bounded, not instant.
            var left = ""
            for _ in 0..<50 {
                left = try await host.run("ls -A botops/bin").stdoutText
                if !left.contains(".botops-upload.") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(!left.contains(".botops-upload."), "a part was left on the host: \(left)")
            #expect(!left.contains("botops.new"), "\(left)")
            #expect(try await host.run("botops/bin/botops --version").stdoutText == "old\n", "the installed botops was replaced")
        }
    }

    /// A bot-engine the host's checks pass but whose `--version` fails there (/bin/false): exit 1,
    /// and the installed botops is the old one still (it was replaced before bot-engine was tried),
    /// no staged copy left.
    @Test func aBotEngineThatFailsItsVersionLeavesTheInstalledBotopsAsItWas() async throws {
        let binary = try await Self.releaseBinary()
        let local = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        try await withoutHostBotops { host in
            #expect(try await host.run("mkdir -p botops/bin && printf '#!/bin/sh\\necho old\\n' > botops/bin/botops && chmod 755 botops/bin/botops").succeeded)
            let result = try await BuiltBinary.botops.run(["install-host", "--config", local.appendingPathComponent("botops.yml").path,
                                                           "--binary", binary, "--engine-binary", "/bin/false"])
            #expect(result.termination == .exited(1), "\(result.stderrText)")
            #expect(result.stderrText.contains("the copied bot-engine does not run on the host"), "\(result.stderrText)")
            #expect(try await host.run("botops/bin/botops --version").stdoutText == "old\n", "botops was replaced though the install failed")
            #expect(try await host.run("ls -A botops/bin").stdoutText == "botops\n")
        }
    }

    @Test func refusesABuildThatNeedsTheSwiftRuntimeAndCopiesNothing() async throws {
        let local = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        let debug = BuiltBinary.botops.path
        // The debug build links libswiftCore.so: as the ELF reader sees it, not just as assumed.
        #expect(try ELFFacts(path: debug).needed.contains("libswiftCore.so"))
        try await withoutHostBotops { host in
            let result = try await BuiltBinary.botops.run(["install-host", "--config", local.appendingPathComponent("botops.yml").path, "--binary", debug])
            #expect(result.termination == .exited(4), "\(result.stderrText)")
            #expect(result.stderrText.contains("needs the Swift runtime's shared libraries (libswiftSwiftOnoneSupport.so, libswiftCore.so"), "\(result.stderrText)")
            #expect(result.stderrText.contains("swift build -c release --static-swift-stdlib --product botops"))
            #expect(result.stderrText.contains("nothing was copied"))
            #expect(try await host.run("cd && [ ! -e botops ]").succeeded, "a refused install copied something")

            // A bot-engine named with --engine-binary that the host cannot run refuses it all.
            let engine = URL(fileURLWithPath: debug).deletingLastPathComponent().appendingPathComponent("bot-engine").path
            let named = try await BuiltBinary.botops.run(["install-host", "--config", local.appendingPathComponent("botops.yml").path,
                                                          "--binary", try await Self.releaseBinary(), "--engine-binary", engine])
            #expect(named.termination == .exited(4), "\(named.stderrText)")
            #expect(named.stderrText.contains("the host cannot run \(engine)"), "\(named.stderrText)")
            #expect(try await host.run("cd && [ ! -e botops ]").succeeded, "a refused install copied something")
        }
    }

    /// A playbooks directory outside botops.yml's is refused before the host is reached: exit 2,
    /// the fix named, nothing on the host (it was skipped, with a line among the copies).
    @Test func refusesAPlaybooksDirectoryOutsideBotopsYmlsAndCopiesNothing() async throws {
        let local = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        let config = local.appendingPathComponent("botops.yml")
        try (String(contentsOf: config, encoding: .utf8) + "\nplaybooks: \(local.path)/playbooks\n").write(to: config, atomically: true, encoding: .utf8)
        try await withoutHostBotops { host in
            let result = try await BuiltBinary.botops.run(["install-host", "--config", config.path, "--binary", BuiltBinary.botops.path])
            #expect(result.termination == .exited(2), "\(result.stdoutText)\(result.stderrText)")
            #expect(result.stderrText.contains("key 'playbooks': \(local.path)/playbooks lies outside botops.yml's directory"), "\(result.stderrText)")
            #expect(result.stderrText.contains("set `playbooks: playbooks`"), "\(result.stderrText)")
            #expect(try await host.run("cd && [ ! -e botops ]").succeeded, "a refused install copied something")
        }
    }

    @Test func refusesAFileThatIsNotALinuxExecutable() async throws {
        let local = try operatorDirectory()
        defer { try? FileManager.default.removeItem(at: local) }
        let result = try await BuiltBinary.botops.run(["install-host", "--config", local.appendingPathComponent("botops.yml").path,
                                                       "--binary", local.appendingPathComponent("botops.yml").path])
        #expect(result.termination == .exited(2))
        #expect(result.stderrText.contains("is not a Linux executable (no ELF header)"), "\(result.stderrText)")
    }
}
