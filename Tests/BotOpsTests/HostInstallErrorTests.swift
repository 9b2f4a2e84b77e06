import BotOpsKit
import Testing

/// install-host's failures say what the host was left with: before the replace the installed
/// botops is untouched (exit 1); after it, the new one is in place and does not run (exit 5).
@Suite struct HostInstallErrorTests {
    @Test func aFailureAfterTheReplaceSaysTheNewBotopsIsInPlace() {
        let before = HostInstallError.versionFailed(program: "botops", output: "Illegal instruction")
        #expect(before.exitCode == .failed)
        #expect(before.description.contains("the installed one, if any, was left in place"))

        let after = HostInstallError.installedVersionFailed(output: "Illegal instruction")
        #expect(after.exitCode == .needsHuman)
        #expect(!after.description.contains("left in place"), "\(after)")
        #expect(after.description.contains("~/botops/bin/botops is the new botops and `~/botops/bin/botops --version` failed there (Illegal instruction)"), "\(after)")
        #expect(after.description.contains("install-host again"))
    }
}
