import BotOpsKit
import Foundation
import Remote
import SandboxSupport
import Testing

/// `--download`'s record and roles are checked like its dump: a `cat` first on PATH on the host
/// side hands over the record (or the roles) cut short, or the record with one field changed at
/// the same size. Each ends with exit 1 and no record named on this machine (the files before it
/// arrived whole and stay); the record on the host is untouched.
extension BackupSandboxTests {
    @Test(arguments: [
        (".json", "head -c 100 -- \"$2\"", "100 bytes arrived"),
        (".json", "sed 's/\"keep\":false/\"keep\":true /' -- \"$2\"", "the sha256 of what arrived is"),
        (".roles.sql", "head -c 100 -- \"$2\"", "100 bytes arrived"),
    ])
    func aRecordDamagedOnItsWayIsNotNamed(file: String, fake: String, message: String) async throws {
        try await BackupSandbox.scene { scene in
            let bin = scene.directory + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            let real = try await BackupSandbox.sh("command -v cat")
            // Only the download's `cat -- ID\(file)`; every other cat is the real one.
            try """
                #!/bin/sh
                case "$1 $2" in
                  "-- "*\(file)) \(fake); exit;;
                esac
                exec \(shellQuote(real)) "$@"
                """.write(toFile: bin + "/cat", atomically: true, encoding: .utf8)
            try await BackupSandbox.sh("chmod 755 \(shellQuote(bin + "/cat"))")
            let environment = ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
            let local = scene.directory + "/local"
            let result = try await BuiltBinary.botops.run(["backup", "--local", "--no-verify", "--download", local, "--config", try scene.config()],
                                                          environment: environment)
            let recordFile = try #require(scene.files().first { $0.hasSuffix(".json") }, "the backup on the host: \(scene.files())")
            let stored = try String(contentsOfFile: scene.directory + "/backups/" + recordFile, encoding: .utf8)
            let record = try #require(BackupRecord.parse(stored))
            #expect(result.termination == .exited(1), "\(result.stderrText)")
            #expect(result.stderrText.contains("downloading \(record.id)\(file) failed, nothing was written under its name")
                    && result.stderrText.contains(message), "\(result.stderrText)")
            #expect(!result.stderrText.contains("botops: downloaded"), "\(result.stderrText)")
            let before = file == ".json" ? [record.id + ".dump", record.id + ".roles.sql"] : [record.id + ".dump"]
            #expect(scene.files(in: local) == before, "no record named, no temporary file: \(scene.files(in: local))")
            let sum = try await BackupSandbox.sh("sha256sum \(shellQuote(local + "/" + record.id + ".dump")) | cut -c1-64")
            #expect(sum == record.sha256, "the dump that arrived first is whole")
            #expect(stored == record.json + "\n", "the record on the host is as botops wrote it")
        }
    }
}
