@testable import BotOpsKit
import HostCommands
import Remote
import Testing

/// `--dry-run` asks each step for its commands (`DeployStep.plan`), the same value whose `run` the
/// real run executes: for every list of steps a run executes, the plan names them all, in order,
/// each with the commands it would send.
@Suite struct DeployPlanTests {
    static let before = "0123456789abcdef0123456789abcdef01234567"
    static let after = "89abcdef0123456789abcdef0123456789abcdef"

    /// A deployer holding the facts the dry run reads before it plans (never connecting).
    func deployer() throws -> Deployer {
        let config = try BotOpsConfig.parse("host: h\nservices: [sighook, webhook]")
        let deployer = Deployer(config: config,
                                deployPlaybook: try Playbook.parse(Playbook.Kind.deploy.builtInText, file: "deploy.yml", kind: .deploy),
                                rollbackPlaybook: try Playbook.parse(Playbook.Kind.rollback.builtInText, file: "rollback.yml", kind: .rollback),
                                runner: LocalHost(), emit: { _ in })
        deployer.run.services = ["sighook", "webhook"]
        var kept = KeptImages()
        var running: [String: Deployer.RunningContainer] = [:]
        for service in deployer.run.services {
            running[service] = .init(container: "c-\(service)", imageID: "sha256:\(service)", imageName: "bottrader/\(service):latest")
            kept.tags[service] = "bottrader/\(service):botops-\(Self.before.prefix(12))"
        }
        try deployer.run.running.produce(running, by: .step(.keepImage))
        try deployer.run.keptImages.produce(kept, by: .step(.keepImage))
        try deployer.run.checkoutBefore.produce(CheckoutBefore(branch: "main", revision: Self.before), by: .step(.preflight))
        try deployer.run.resolvedTarget.produce(Target(branch: "main", revision: Self.after), by: .step(.checkout))
        return deployer
    }

    /// Each step's name with the commands planned under it, in the order the events came.
    func plannedSteps(_ events: [DeployEvent]) -> [(name: String, commands: [String])] {
        var steps: [(name: String, commands: [String])] = []
        for event in events {
            switch event {
            case .stepStarted(let name, let index, let total):
                #expect(index == steps.count + 1 && total == events.filter { if case .stepStarted = $0 { true } else { false } }.count)
                steps.append((name, []))
            case .planned(let step, let command, _):
                #expect(steps.last?.name == step, "\(step) planned outside its step")
                steps[steps.count - 1].commands.append(command)
            default:
                Issue.record("the plan emitted \(event)")
            }
        }
        return steps
    }

    @Test func everyStepARunExecutesIsPlannedInOrderWithItsCommands() throws {
        let deployer = try deployer()
        let runs: [(String, [PlaybookStep], Playbook.Kind)] = [
            ("deploy", deployer.deploySteps, .deploy),
            ("deploy --host-files", deployer.hostFilesSteps, .deploy),
            ("rollback after a failed deploy", deployer.rollbackSteps(restartContainers: true), .rollback),
            ("rollback before the containers changed", deployer.rollbackSteps(restartContainers: false), .rollback),
        ]
        for (what, steps, kind) in runs {
            #expect(!steps.isEmpty, "\(what)")
            let planned = plannedSteps(deployer.planned(steps, playbook: kind))
            #expect(planned.map(\.name) == steps.map(\.name), "\(what)")
            for step in planned {
                #expect(!step.commands.isEmpty, "\(what): step \(step.name) plans no command")
            }
        }
        #expect(deployer.rollbackSteps(restartContainers: false).map(\.name) == ["checkout", "restore-image", "checks"])
    }

    @Test func theStepsPlanTheCommandsTheirRunSends() throws {
        let deployer = try deployer()
        let planned = Dictionary(uniqueKeysWithValues: plannedSteps(deployer.planned(deployer.deploySteps, playbook: .deploy)).map { ($0.name, $0.commands) })
        let commands = deployer.commands
        let target = Target(branch: "main", revision: Self.after)
        #expect(planned["preflight"]?.first == commands.preflightProbe(timeout: .seconds(120)).displayText)
        #expect(planned["checkout"]?.last == commands.checkout(target, timeout: .seconds(120)).displayText)
        #expect(planned["keep-image"] == deployer.run.services.map { commands.tag("sha256:\($0)", as: "bottrader/\($0):botops-\(Self.before.prefix(12))", timeout: .seconds(60)).displayText })
        #expect(planned["up"] == [commands.inCheckout(try PlaybookTemplate("{compose} up -d --no-deps {services}").render([.compose: commands.compose.words, .services: ["sighook", "webhook"]])).text])
        // The rollback's checkout goes back without a fetch.
        let rollback = Dictionary(uniqueKeysWithValues: plannedSteps(deployer.planned(deployer.rollbackSteps(restartContainers: true), playbook: .rollback)).map { ($0.name, $0.commands) })
        #expect(rollback["checkout"] == [commands.checkout(target, timeout: .seconds(120)).displayText])
        #expect(rollback["restore-image"]?.count == 2)
        // The baseline and the checks plan the nine checks' own probes, as verify --dry-run prints them.
        let probes = try Verification(config: deployer.config).plan()
        for step in ["baseline", "checks"] {
            #expect(planned[step]?.count == probes.count, "\(step): \(planned[step] ?? [])")
            #expect(planned[step]?.contains { $0.contains("crontab -l") } == true, "\(step)")
            #expect(planned[step]?.contains { $0.contains("botops verify") } == false, "\(step)")
        }
    }
}
