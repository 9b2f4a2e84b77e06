@testable import BotOpsKit
import Cron
import Foundation
import Remote
import SandboxSupport
import Testing

/// The shipped crontab.d against the sandbox (Debian's cron, UTC), through `botops cron diff`:
/// the daily backup at 16:30 New York time is guarded, and the entries that run
/// `"$HOME"/botops/bin/botops` are warned about until botops is there.
@Suite(.serialized, .enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct ShippedEntriesSandboxTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let sandbox: Sandbox

    init() throws {
        sandbox = try Sandbox.require()
    }

    @Test func cronDiffShowsTheBackupGuardedAndWarnsUntilBotopsIsOnTheHost() async throws {
        try await SandboxCrontab.scene {
            try await sandbox.withoutHostBotops { connection in
                let arguments = ["cron", "diff", "--config", sandbox.configFile, "--crontab-dir", Self.root + "/crontab.d"]
                let before = try await BuiltBinary.botops.run(arguments)
                #expect(before.termination == .exited(0), "\(before.stderrText)")
                // 16:30 in New York is 20:30 UTC in summer, 21:30 in winter: both hours, one guard.
                #expect(before.stdoutText.contains(#"+30 20,21 * * * case $(TZ=America/New_York date +\%H:\%M/\%w/\%m/\%d) in 16:30/*) ;; *) exit 0;; esac; cd "$HOME/botops" && "$HOME"/botops/bin/botops backup --local >> /opt/bot/logs/backup_cron.log 2>&1"#),
                        "\(before.stdoutText)")
                #expect(before.stdoutText.contains("warning: entry backup runs $HOME/botops/bin/botops, which is not on the host"), "\(before.stdoutText)")
                #expect(before.stdoutText.contains("warning: entry weekly-verify runs $HOME/botops/bin/botops"))

                #expect(try await connection.run("mkdir -p botops/bin && printf '#!/bin/sh\\n' > botops/bin/botops && chmod 755 botops/bin/botops").succeeded)
                let after = try await BuiltBinary.botops.run(arguments)
                #expect(after.termination == .exited(0), "\(after.stderrText)")
                #expect(!after.stdoutText.contains("runs $HOME/botops/bin/botops"), "\(after.stdoutText)")
            }
        }
    }
}
