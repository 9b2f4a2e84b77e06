import BotOpsKit
import Testing

/// What `restore --tables` says when the connection is lost before botops let the host commit.
struct TableRestoreMessageTests {
    /// The restore's session may work on (and hold its locks) long after the connection is gone:
    /// the message gives the check that says when it has ended, rather than "nothing changed, run
    /// it again" at once.
    @Test func aConnectionLostBeforeTheWordGivesTheCheckForTheSessionStillThere() {
        let message = RestoreError.tablesConnectionLost(detail: "connection reset", commitSent: false, check: "CHECK-COMMAND").description
        #expect(message.contains("nothing will be committed") && message.contains("run on the host:\n  CHECK-COMMAND\nrunning: still there"), "\(message)")
        #expect(RestoreError.tablesConnectionLost(detail: "", commitSent: false, check: "").exitCode == .unreachable)
    }
}
