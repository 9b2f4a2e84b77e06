import BotOpsKit
import Foundation
import SandboxSupport
import Testing

/// The throwaway server's initialised data directory is kept in the state directory, one tar per
/// db image id (README: Benchmarks): the first verification makes it and removes another image's,
/// later ones start from it, and one that is not a whole archive is made again.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable))
struct VerifyTemplateSandboxTests {
    @Test func theFirstVerificationKeepsATemplateTheNextStartFromItAndABrokenOneIsMadeAgain() async throws {
        try await BackupSandbox.scene { scene in
            // A state directory of this test's own, so the sandbox's template is not touched.
            let state = scene.directory + "/state"
            let templates = state + "/verify-template"
            try await BackupSandbox.sh("install -d -o bot -g bot -m 700 \(shellQuote(state)) \(shellQuote(templates))")
            let config = try scene.config()
            try ("state_dir: \(state)\n" + String(contentsOfFile: config, encoding: .utf8)).write(toFile: config, atomically: true, encoding: .utf8)
            let image = try await BackupSandbox.sh("docker inspect --format '{{.Image}}' db")
            let template = templates + "/" + String(try #require(image.split(separator: ":").last)) + ".tar"
            // Another image's template, as if the db image changed since it was made.
            let stale = templates + "/" + String(repeating: "0", count: 64) + ".tar"
            try await BackupSandbox.sh("cp /etc/hostname \(shellQuote(stale)) && chown bot:bot \(shellQuote(stale))")
            let record = try await scene.unverifiedBackup(config: config)

            let first = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(first.termination == .exited(0), "\(first.stderrText)")
            #expect(first.stderrText.contains("kept the throwaway server's initialised data directory in \(template)"), "\(first.stderrText)")
            #expect(scene.files(in: templates) == [String(template.split(separator: "/").last!)], "the stale template is removed")
            #expect(try await BackupSandbox.sh("stat -c %a \(shellQuote(template))") == "640")
            #expect(try await BackupSandbox.sh("tar -tf \(shellQuote(template))").split(separator: "\n").contains("pgdata/PG_VERSION"))
            let made = try await BackupSandbox.sh("stat -c '%i %Y' \(shellQuote(template))")

            let second = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(second.termination == .exited(0), "\(second.stderrText)")
            #expect(!second.stderrText.contains("kept the throwaway"), "started from the template, not made again: \(second.stderrText)")
            #expect(try await BackupSandbox.sh("stat -c '%i %Y' \(shellQuote(template))") == made)

            // Cut short (as by a full disk): the verification still runs, from initdb, and makes it again.
            try await BackupSandbox.sh("truncate -s 20000 \(shellQuote(template))")
            let third = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(third.termination == .exited(0), "\(third.stderrText)")
            #expect(third.stderrText.contains("kept the throwaway server's initialised data directory"), "\(third.stderrText)")
            #expect(try await BackupSandbox.sh("tar -tf \(shellQuote(template)) >/dev/null && echo whole") == "whole")
            #expect(try await BackupSandbox.sh("docker ps -a --filter name=botops-verify --format '{{.Names}}'").isEmpty)
        }
    }

    /// restore --test checks the dump's sha256 on the host while the throwaway server starts: a
    /// damaged dump is refused and the server it started is removed.
    @Test func aDamagedDumpIsRefusedByRestoreTestAndItsServerRemoved() async throws {
        try await BackupSandbox.scene { scene in
            let config = try scene.config()
            let record = try await scene.unverifiedBackup(config: config)
            let dump = scene.directory + "/backups/" + record.id + ".dump"
            // Same size, one byte changed: only the sha256 tells.
            try await BackupSandbox.sh("printf x | dd of=\(shellQuote(dump)) bs=1 seek=5000 conv=notrunc status=none")
            let damaged = try await scene.botops(["restore", record.id, "--test"], config: config)
            #expect(damaged.termination == .exited(1))
            #expect(damaged.stderrText.contains("cannot be relied on: its sha256 differs from the record's"), "\(damaged.stderrText)")
            #expect(try await BackupSandbox.sh("docker ps -a --filter name=botops-verify --format '{{.Names}}'").isEmpty)
        }
    }
}
