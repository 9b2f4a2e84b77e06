@testable import BotOpsKit
import Remote
import Testing

/// A fact a step produces is read by later steps through `value()`, which fails the reading step
/// with a message naming the producer when that step has not run, instead of reading an empty
/// field as if the host had said so.
@Suite struct RunFactsTests {
    @Test func aFactReadBeforeItsProducerRanFailsNamingTheProducer() throws {
        var checkout = Produced<CheckoutBefore>(by: "preflight")
        #expect(checkout.ifProduced == nil)
        let error = #expect(throws: Deployer.StepFailure.self) { try checkout.value() }
        #expect(error?.message.contains("before step preflight produced it: the playbook must run 'builtin: preflight' before this step") == true, "\(String(describing: error))")
        #expect(error?.refusal == nil)
        checkout.produce(CheckoutBefore(branch: "main", revision: "0123"))
        #expect(try checkout.value() == CheckoutBefore(branch: "main", revision: "0123"))
    }

    /// Messages and the audit may be written before the preflight ran (a refused lock): they read
    /// the facts leniently and name no previous revision.
    @Test func theAuditBeforeThePreflightNamesNoPreviousRevision() throws {
        let config = try BotOpsConfig.parse("host: h\nservices: [sighook]")
        let deployer = Deployer.readOnly(config: config, runner: LocalHost())
        #expect(deployer.auditRecord(result: "refused").from == nil)
        #expect(deployer.auditRecord(result: "refused").sshUser == nil)
        deployer.run.checkoutBefore.produce(CheckoutBefore(branch: "main", revision: "0123"))
        deployer.run.sshUser.produce("bot")
        #expect(deployer.auditRecord(result: "refused").from == "0123")
        #expect(deployer.auditRecord(result: "refused").sshUser == "bot")
    }

    /// A checks (or wait-healthy) step that failed under `on_failure: continue` produced no
    /// verdict: the run goes on to record the release, which must say it is unverified (neither
    /// fail as a botops bug after the release went live, nor record it as last-known-good).
    @Test func aChecksStepThatFailedUnderContinueLeavesTheReleaseUnverified() throws {
        let config = try BotOpsConfig.parse("host: h\nservices: [sighook]")
        var run = Deployer.readOnly(config: config, runner: LocalHost()).run
        run.services = ["sighook"]
        #expect(run.unverifiedReason == "unverified: step checks failed (on_failure: continue)")
        run.verdict.produce(ChecksVerdict(skipped: [], failingAsBefore: []))
        #expect(run.unverifiedReason == "unverified: step wait-healthy failed (on_failure: continue)")
        run.healthy.produce(HealthyContainers())
        #expect(run.unverifiedReason == nil)
        run.verdict.produce(ChecksVerdict(skipped: [.reportFile], failingAsBefore: []))
        #expect(run.unverifiedReason?.contains("1 check skipped") == true)
        // `deploy --host-files` waits for no container: the checks alone vouch for it.
        run.services = []
        run.healthy = Produced(by: "wait-healthy")
        run.verdict.produce(ChecksVerdict(skipped: [], failingAsBefore: []))
        #expect(run.unverifiedReason == nil)
    }
}
