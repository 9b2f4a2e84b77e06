import BotOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SandboxSupport
import Testing

/// botops gone in the middle of a backup's verification (Ctrl-C; its sshd session killed, the
/// connection lost): the verification on the host stops and cleans up within seconds (no process
/// of its script, no throwaway server), and nothing on the host changes after botops has ended.
/// Closing the channel sends no SIGHUP (no tty): before, the script went on after botops had
/// released the lock (here, held at a stopped `docker exec`, it never ended).
extension VerifyTemplateSandboxTests {
    enum Departure: String, CaseIterable, Sendable { case ctrlC, sessionKilled }

    @Test(arguments: Departure.allCases)
    func aVerificationStopsAndCleansUpWhenBotopsGoes(_ departure: Departure) async throws {
        try await BackupSandbox.scene { scene in
            let (config, _, _) = try await Self.ownStateDirectory(scene)
            let stderr = scene.directory + "/backup.stderr"
            FileManager.default.createFile(atPath: stderr, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
            process.arguments = ["backup", "--config", config]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
            try process.run()
            // The verification's first `docker exec` into its throwaway server, stopped: the script
            // waits there for as long as it stays stopped. "PID GROUP SESSION CONTAINER".
            let held = try await BackupSandbox.sh("""
                while kill -0 \(process.processIdentifier) 2>/dev/null; do
                  for p in $(pgrep -f '^docker exec -i botops-verify-'); do
                    g=$(ps -o pgid= -p "$p" | tr -d ' ') && kill -STOP "$p" || continue
                    echo "$p $g $(ps -o ppid= -p "$g" | tr -d ' ') $(tr '\\0' '\\n' < /proc/$p/cmdline | sed -n 4p)" && exit 0
                  done
                  sleep 0.01
                done
                true
                """).split(separator: " ").map(String.init)
            let said = { (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "" }
            defer {
                if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            }
            try #require(held.count == 4, "the verification's docker exec was never seen: \(said())")
            let group = held[1], container = held[3]
            func putBack() async {
                _ = try? await BackupSandbox.sh("kill -CONT \(held[0]) 2>/dev/null; kill -KILL -\(group) 2>/dev/null; docker rm -f \(shellQuote(container)) >/dev/null 2>&1; true")
            }
            switch departure {
            case .ctrlC:
                kill(process.processIdentifier, SIGINT)
            case .sessionKilled:
                let session = try TestSSHServer.sessionProcess(try #require(pid_t(held[2])))
                kill(session, SIGKILL)
            }
            do {
                try await waitUntil { !process.isRunning }
            } catch {
                await putBack()
                throw error
            }
            #expect(process.terminationStatus == (departure == .ctrlC ? 130 : 3), "\(said())")
            let survey = "pgrep -g \(group) -l; docker ps -a --filter name=\(shellQuote("^" + container + "$")) --format '{{.Names}}'"
            if departure == .ctrlC {
                // Ctrl-C waits for the host's cleanup before the deploy lock is released: the next
                // holder (a `restore ID --test` of the same backup, same server name) must not meet it.
                // (A member that has exited but is not reaped yet, a zombie, runs nothing.)
                let atRelease = try await BackupSandbox.sh("ps -o pid=,stat=,args= -g \(group) | awk '$2 !~ /^Z/'; docker ps -a --filter name=\(shellQuote("^" + container + "$")) --format '{{.Names}}'")
                #expect(atRelease.isEmpty, "still on the host when botops released the lock and ended: \(atRelease)")
            }
            // What botops left on the host once it ended; nothing may change after that.
            let files = "find \(shellQuote(scene.directory + "/state")) \(shellQuote(scene.directory + "/backups")) -printf '%p %s %T@\\n' | sort"
            let atExit = try await BackupSandbox.sh(files)
            // At most 5 s after botops is gone (polled), its script's process group and server are gone.
            var left = ""
            for _ in 0..<50 {
                left = try await BackupSandbox.sh(survey)
                if left.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            await putBack()
            #expect(left.isEmpty, "still on the host 5 s after botops ended: \(left)")
            #expect(try await BackupSandbox.sh(files) == atExit, "the host changed after botops had ended")
        }
    }
}
