import BotOpsKit
import Foundation
import SandboxSupport
import Testing

/// The tar that makes the verify template failing (a `tar` first on PATH inside the throwaway
/// server that refuses to write one) only skips keeping the template: the verification goes on
/// from initdb, the backup is verified, botops says the cache was skipped, and no template (or
/// part of one) is left. Before, the server never started (exit 81) and the backup stayed unverified.
extension VerifyTemplateSandboxTests {
    @Test func aTemplateThatCannotBeMadeOnlySkipsTheCache() async throws {
        try await BackupSandbox.scene { scene in
            let (config, templates, _) = try await Self.ownStateDirectory(scene)
            let bin = scene.directory + "/bin"
            let real = try await BackupSandbox.sh("command -v docker")
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            // Inside the server: /usr/local/bin comes before /usr/bin on the image's PATH.
            try """
                #!/bin/sh
                case " $* " in *" -cf "*) echo "tar: cannot write the archive (test)" >&2; exit 2;; esac
                exec /usr/bin/tar "$@"
                """.write(toFile: bin + "/container-tar", atomically: true, encoding: .utf8)
            try """
                #!/bin/sh
                [ "$1" = run ] && shift && exec \(shellQuote(real)) run --mount type=bind,source=\(bin)/container-tar,target=/usr/local/bin/tar,readonly "$@"
                exec \(shellQuote(real)) "$@"
                """.write(toFile: bin + "/docker", atomically: true, encoding: .utf8)
            try await BackupSandbox.sh("chmod 755 \(shellQuote(bin + "/docker")) \(shellQuote(bin + "/container-tar"))")
            let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")

            let result = try await BuiltBinary.botops.run(["backup", "--local", "--format", "json", "--config", config], environment: ["PATH": path])
            #expect(result.termination == .exited(0), "\(result.stderrText)")
            #expect(BackupRecord.parse(result.stdoutText)?.status == .verified, "\(result.stdoutText)\(result.stderrText)")
            #expect(result.stderrText.contains("skipped keeping the throwaway server's initialised data directory"), "\(result.stderrText)")
            #expect(scene.files(in: templates).isEmpty, "\(scene.files(in: templates))")
        }
    }
}
