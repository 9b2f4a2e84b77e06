import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

extension BackupSandbox {
    /// PATH with a `docker` first that runs every `docker run` of the real image with the
    /// entrypoint `/bin/false` (no throwaway server starts). `cases` are more arms of a `case` on
    /// `"$1 $*"`, run before the real docker (`$real`) gets the call.
    func dockerWithoutThrowawayServer(cases: String = "") async throws -> String {
        let real = try await BackupSandbox.sh("command -v docker")
        let bin = directory + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try """
            #!/bin/sh
            real=\(shellQuote(real))
            case "$1 $*" in
              "run "*) for a; do shift; [ "$prev" = --entrypoint ] && a=/bin/false; prev=$a; set -- "$@" "$a"; done;;
            \(cases)
            esac
            exec "$real" "$@"
            """.write(toFile: bin + "/docker", atomically: true, encoding: .utf8)
        try await BackupSandbox.sh("chmod 755 \(shellQuote(bin + "/docker"))")
        return bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    }
}

/// A db image that cannot start a throwaway server: `docker` first on PATH runs every
/// `docker run` of the real image with the entrypoint `/bin/false`, so the throwaway container
/// exits at once, as one whose image has no initdb would.
extension BackupSandboxTests {
    @Test func withoutAThrowawayServerTheBackupIsUnverifiedOrVerifiedInAScratchDatabaseOnTheLiveServer() async throws {
        try await BackupSandbox.scene { scene in
            let environment = ["PATH": try await scene.dockerWithoutThrowawayServer()]
            let backups = scene.directory + "/backups"
            let config = try scene.config()

            // Without backup.verify_on_live: kept, unverified, and it says why.
            let plain = try await BuiltBinary.botops.run(["backup", "--local", "--format", "json", "--config", config], environment: environment)
            #expect(plain.termination == .exited(0), "\(plain.stderrText)")
            let unverified = try #require(BackupRecord.parse(plain.stdoutText), "\(plain.stderrText)")
            #expect(unverified.status == .unverified)
            #expect(unverified.statusReason?.contains("no throwaway server could start") == true, "\(unverified.statusReason ?? "")")
            #expect(unverified.statusReason?.contains("backup.verify_on_live: true") == true)

            // A database that merely looks like a scratch one, and one an interrupted run left with
            // its marker (createdb sets the marker's token as the database's comment).
            let stale = "botops_verify_20200101t000000z", token = "botops scratch test-left"
            try await BackupSandbox.sh("docker exec db createdb -U bot_user botops_verify_other && docker exec db createdb -U bot_user \(stale) \(shellQuote(token))")
            try await BackupSandbox.sh("printf '%s\\n' \(shellQuote(token)) >\(shellQuote(backups + "/.botops-scratch-" + stale))")
            do {
                try String(contentsOfFile: config, encoding: .utf8).appending("  verify_on_live: true\n").write(toFile: config, atomically: true, encoding: .utf8)
                let live = try await BuiltBinary.botops.run(["backup", "--local", "--format", "json", "--config", config], environment: environment)
                #expect(live.termination == .exited(0), "\(live.stderrText)")
                let record = try #require(BackupRecord.parse(live.stdoutText), "\(live.stderrText)")
                #expect(record.status == .verified, "\(record.statusReason ?? "")")
                #expect(record.statusReason?.contains("scratch database on the live server") == true)
                let databases = try await BackupSandbox.psql("SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database WHERE datname LIKE 'botops\\_verify\\_%'")
                #expect(databases == "botops_verify_other", "only the database botops did not create is left")
                #expect(!scene.files().contains { $0.hasPrefix(".botops-scratch-") })

                // restore --test verifies the same way, names the scratch database before creating
                // it, and says where it restored.
                let test = try await BuiltBinary.botops.run(["restore", record.id, "--test", "--local", "--config", config], environment: environment)
                #expect(test.termination == .exited(0), "\(test.stderrText)")
                #expect(test.stdoutText.contains("scratch database on the live server"), "\(test.stdoutText)")
                #expect(!test.stdoutText.contains("throwaway server;"), "\(test.stdoutText)")
                #expect(test.stderrText.contains("verifying in the scratch database botops_verify_"), "\(test.stderrText)")
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'botops\\_verify\\_2%'") == "0")
            } catch {
                _ = try? await BackupSandbox.sh("docker exec db dropdb -U bot_user --if-exists botops_verify_other; docker exec db dropdb -U bot_user --if-exists \(stale)")
                throw error
            }
            try await BackupSandbox.sh("docker exec db dropdb -U bot_user --if-exists botops_verify_other; docker exec db dropdb -U bot_user --if-exists \(stale)")
        }
    }

    /// Ctrl-C while the dump is restored into the scratch database: botops has named it on stderr
    /// before creating it, and the next backup leaves no scratch database behind (dropped on the
    /// way out, or by its marker).
    @Test func anInterruptedVerificationOnTheLiveServerNamesItsScratchDatabaseAndTheNextBackupDropsIt() async throws {
        try await BackupSandbox.scene { scene in
            let restoring = scene.directory + "/restoring", block = scene.directory + "/block"
            // The throwaway server cannot start; the restore into a scratch database waits until the file `block` goes.
            let path = try await scene.dockerWithoutThrowawayServer(cases: """
                  *pg_restore*botops_verify_*) : >\(shellQuote(restoring)); while [ -e \(shellQuote(block)) ]; do sleep 0.05; done;;
                """)
            try await BackupSandbox.sh(": >\(shellQuote(block))")
            let config = try scene.config()
            try String(contentsOfFile: config, encoding: .utf8).appending("  verify_on_live: true\n").write(toFile: config, atomically: true, encoding: .utf8)
            let stderr = scene.directory + "/backup.stderr"
            FileManager.default.createFile(atPath: stderr, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
            process.arguments = ["backup", "--local", "--config", config]
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = path
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
            try process.run()
            try await waitUntil { FileManager.default.fileExists(atPath: restoring) || !process.isRunning }
            kill(process.processIdentifier, SIGINT)
            while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            try FileManager.default.removeItem(atPath: block)
            let errors = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
            #expect(process.terminationStatus == 130, "\(errors)")
            #expect(errors.contains("verifying in the scratch database botops_verify_"), "\(errors)")

            let next = try await BuiltBinary.botops.run(["backup", "--local", "--format", "json", "--config", config], environment: ["PATH": environment["PATH"] ?? ""])
            #expect(next.termination == .exited(0), "\(next.stderrText)")
            #expect(BackupRecord.parse(next.stdoutText)?.status == .verified, "\(next.stderrText)")
            #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'botops\\_verify\\_%'") == "0")
            #expect(!scene.files().contains { $0.hasPrefix(".botops-scratch-") })
        }
    }
}

extension BackupSandboxTests {
    /// A marker names a scratch database; it does not make one botops's. A verification killed
    /// (SIGKILL: no trap runs) after writing its marker, while its createdb failed because someone
    /// else had just created that name, leaves a marker for a database botops did not create: the
    /// next backup must leave that database alone.
    @Test func aMarkerLeftForADatabaseBotopsDidNotCreateNeverDropsIt() async throws {
        try await BackupSandbox.scene { scene in
            let taken = scene.directory + "/taken"
            // No throwaway server; at the scratch database's createdb, another party creates that
            // name first, and the verification's shell is killed with its marker written.
            let path = try await scene.dockerWithoutThrowawayServer(cases: """
                  *createdb*botops_verify_*)
                    for a; do case "$a" in botops_verify_*) name=$a;; esac; done
                    "$real" exec db createdb -U bot_user "$name" && printf '%s' "$name" >\(shellQuote(taken))
                    kill -9 "$PPID"; exit 1;;
                """)
            let config = try scene.config()
            try String(contentsOfFile: config, encoding: .utf8).appending("  verify_on_live: true\n").write(toFile: config, atomically: true, encoding: .utf8)
            _ = try await BuiltBinary.botops.run(["backup", "--local", "--format", "json", "--config", config], environment: ["PATH": path])
            let name = try String(contentsOfFile: taken, encoding: .utf8)
            do {
                #expect(scene.files().contains(".botops-scratch-" + name), "the killed verification left its marker: \(scene.files())")
                let next = try await BuiltBinary.botops.run(["backup", "--local", "--format", "json", "--config", config])
                #expect(next.termination == .exited(0), "\(next.stderrText)")
                #expect(try await BackupSandbox.psql("SELECT count(*) FROM pg_database WHERE datname = '\(name)'") == "1",
                        "\(name), which botops did not create, was dropped")
            } catch {
                _ = try? await BackupSandbox.sh("docker exec db dropdb -U bot_user --if-exists \(shellQuote(name))")
                throw error
            }
            try await BackupSandbox.sh("docker exec db dropdb -U bot_user --if-exists \(shellQuote(name))")
        }
    }
}
