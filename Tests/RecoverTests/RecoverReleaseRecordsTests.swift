import Foundation
import SandboxSupport
import Testing

/// recover on a host whose release records cannot be read (a truncated write on a full disk): it
/// leaves them byte for byte, says so naming the file, and following its advice clears it.
@Suite(.enabled(if: Sandbox.isAvailable, "needs the sandbox host: scripts/sandbox up"))
struct RecoverReleaseRecordsTests {
    @Test func unreadableReleaseRecordsAreLeftAloneNamedAndTheAdviceClearsThem() async throws {
        try await HostScene.run { scene in
            let releases = scene.stateFile("releases.json")
            try await scene.sh("mkdir -p \(scene.stateFile("")) && printf '{\"sighook\": [{\"revision\": \"0123' > \(releases)")
            let before = try await scene.sh("base64 -w0 < \(releases)")
            let result = try await scene.botops(["recover", "--yes"])
            #expect(try await scene.sh("base64 -w0 < \(releases)") == before)
            #expect(result.stdoutText.contains("the release records cannot be read"), "\(result.stdoutText)")
            #expect(result.stdoutText.contains("releases.json, then fix its permissions or move it aside"), "\(result.stdoutText)")
            #expect(result.termination == .exited(1), "\(result.stdoutText)\n\(result.stderrText)")

            try await scene.sh("mv \(releases) \(releases).broken")
            let again = try await scene.botops(["recover", "--yes"])
            #expect(!again.stdoutText.contains("release records"), "\(again.stdoutText)")
            #expect(again.termination == .exited(0), "\(again.stdoutText)\n\(again.stderrText)")
        }
    }
}
