import BotOpsKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SandboxSupport
import Testing

/// Ctrl-C while the throwaway server's `docker run -d` is in flight: dockerd goes on creating the
/// container after its client is killed, so a trap that ran `docker rm -f` before that left it.
/// Here `docker` first on PATH hands the run to a detached process (dockerd's side, out of the
/// script's process group) that creates the container 2 s later, and waits for it as the client does.
extension VerifyTemplateSandboxTests {
    @Test func ctrlCWhileTheThrowawayServerStartsLeavesNoServer() async throws {
        try await BackupSandbox.scene { scene in
            let (config, _, _) = try await Self.ownStateDirectory(scene)
            let real = try await BackupSandbox.sh("command -v docker")
            let bin = scene.directory + "/bin", starting = scene.directory + "/starting", created = scene.directory + "/created"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try """
                #!/bin/sh
                real=\(shellQuote(real))
                if [ "$1" = run ]; then
                  : >\(shellQuote(starting))
                  setsid sh -c 'sleep 2; "$0" "$@"; status=$?; : >\(shellQuote(created)); exit $status' "$real" "$@" &
                  wait $!
                  exit $?
                fi
                exec "$real" "$@"
                """.write(toFile: bin + "/docker", atomically: true, encoding: .utf8)
            try await BackupSandbox.sh("chmod 755 \(shellQuote(bin + "/docker"))")
            let record = try await scene.unverifiedBackup(config: config)
            let server = "botops-verify-" + record.id.lowercased().replacing(".", with: "-")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltBinary.botops.path)
            process.arguments = ["restore", record.id, "--test", "--local", "--config", config]
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
            try await waitUntil { FileManager.default.fileExists(atPath: starting) || !process.isRunning }
            kill(process.processIdentifier, SIGINT)
            try await waitUntil { !process.isRunning }
            #expect(process.terminationStatus == 130)
            // dockerd's side has made the container (or failed) by now: it must not be left.
            try await waitUntil { FileManager.default.fileExists(atPath: created) }
            let left = try await BackupSandbox.sh("docker ps -a --filter name=\(shellQuote("^" + server + "$")) --format '{{.Names}}'")
            if !left.isEmpty { _ = try? await BackupSandbox.sh("docker rm -f \(shellQuote(server)) >/dev/null 2>&1") }
            #expect(left.isEmpty, "the throwaway server created after botops's Ctrl-C is still there")
        }
    }
}
