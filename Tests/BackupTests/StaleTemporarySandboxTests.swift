import BotOpsKit
import Foundation
import SandboxSupport
import Testing

/// A verification whose process group was killed with SIGKILL ran no trap: its temporary
/// directory stays. The next verification removes it (named for its process, which is gone),
/// and never one whose process still runs.
extension VerifyTemplateSandboxTests {
    @Test func theNextVerificationRemovesTheTemporaryDirectoryOfAKilledOne() async throws {
        try await BackupSandbox.scene { scene in
            let (config, _, _) = try await Self.ownStateDirectory(scene)
            let record = try await scene.unverifiedBackup(config: config)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
            process.arguments = ["restore", record.id, "--test", "--config", config]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
            // The verification's process group, killed while it waits for its throwaway server.
            let killed = try await BackupSandbox.sh("""
                while kill -0 \(process.processIdentifier) 2>/dev/null; do
                  for p in $(pgrep -f '^docker exec -i botops-verify-'); do
                    g=$(ps -o pgid= -p "$p" | tr -d ' ') && c=$(tr '\\0' '\\n' < /proc/$p/cmdline | sed -n 4p) || continue
                    kill -KILL -"$g" && docker rm -f "$c" >/dev/null && echo "$g" && exit 0
                  done
                  sleep 0.01
                done
                true
                """)
            try #require(!killed.isEmpty, "the verification's docker exec was never seen")
            process.waitUntilExit()
            let left = try await BackupSandbox.sh("ls -d /tmp/botops-verify-\(killed)-* 2>/dev/null || true")
            #expect(!left.isEmpty, "the killed verification left no temporary directory named for its process")
            // One of a process that still runs (this test): kept.
            let alive = "/tmp/botops-verify-\(getpid())-test\(UInt32.random(in: 0 ... .max))"
            try await BackupSandbox.sh("install -d -o bot -g bot \(shellQuote(alive))")
            defer { _ = try? FileManager.default.removeItem(atPath: alive) }

            let next = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(next.termination == .exited(0), "\(next.stderrText)")
            #expect(try await BackupSandbox.sh("ls -d /tmp/botops-verify-\(killed)-* 2>/dev/null || true").isEmpty, "the killed run's directory stays")
            #expect(FileManager.default.fileExists(atPath: alive), "a running process's directory was removed")
        }
    }
}
