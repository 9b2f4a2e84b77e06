@testable import botops
import BotOpsKit
import Remote
import Testing

/// What a failed pre-deploy backup ends the deploy with: a refusal (exit 4), except a connection
/// lost during it, which stays exit 3 like any lost connection (the host's state is unknown).
@Suite struct PreDeployBackupOutcomeTests {
    @Test func aLostConnectionStaysExitThreeAndOtherFailuresRefuse() {
        let lost = RemoteError.connectionLost(host: "h", detail: "no answer for 30 s", commands: ["pg_dump"])
        #expect(BotOpsExitCode(for: PreDeployBackup.outcome(of: lost)) == .unreachable)
        #expect(PreDeployBackup.outcome(of: lost) as? RemoteError == lost)

        let other = PreDeployBackup.outcome(of: RemoteError.commandTimedOut(command: "pg_dump", seconds: 3600))
        #expect(BotOpsExitCode(for: other) == .refused)
        #expect("\(other)".contains("refused: the pre-deploy backup failed"))
    }
}
