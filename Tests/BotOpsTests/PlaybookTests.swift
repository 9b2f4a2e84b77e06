import BotOpsKit
import Foundation
import HostCommands
import Testing

@Suite struct PlaybookTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theShippedPlaybooksLoad() throws {
        let deploy = try Playbook.load(path: Self.repositoryRoot.appendingPathComponent("playbooks/deploy.yml").path, kind: .deploy)
        #expect(deploy.steps.map(\.name) == ["lock", "preflight", "baseline", "keep-image", "checkout", "build", "stop", "up", "wait-healthy", "checks"])
        #expect(deploy.steps.first { $0.name == "build" }?.timeout == .seconds(1800))
        let rollback = try Playbook.load(path: Self.repositoryRoot.appendingPathComponent("playbooks/rollback.yml").path, kind: .rollback)
        #expect(rollback.steps.contains { $0.action == .builtin(.restoreImage) })
    }

    func error(_ text: String, kind: Playbook.Kind = .deploy) -> ConfigError? {
        #expect(throws: ConfigError.self) { try Playbook.parse(text, file: "deploy.yml", kind: kind) }
    }

    static let minimal = """
        steps:
          - {name: lock, builtin: lock}
          - {name: preflight, builtin: preflight}
          - {name: keep-image, builtin: keep-image}
          - {name: checkout, builtin: checkout}
          - {name: wait-healthy, builtin: wait-healthy}
          - {name: checks, builtin: checks}

        """

    @Test func errorsNameFileLineAndKey() {
        let typo = error(Self.minimal + "  - name: build\n    run: docker build {servise}\n")
        #expect(typo?.description == "deploy.yml:9: key 'steps[7].run': unknown variable {servise}; the variables are: {service}, {services}, {path}, {compose}, {revision}, {previous}, {branch}, {image}, {kept_image}")

        let unknownKey = error(Self.minimal + "  - name: build\n    run: x\n    timeuot: 5m\n")
        #expect(unknownKey?.line == 10)
        #expect(unknownKey?.key == "steps[7].timeuot")

        let builtin = error(Self.minimal + "  - {name: restore, builtin: restore-image}\n")
        #expect(builtin?.key == "steps[7].builtin")
        #expect(builtin?.problem.contains("not a built-in step of a deploy playbook") == true)

        let timeout = error(Self.minimal + "  - {name: up, run: x, timeout: soon}\n")
        #expect(timeout?.key == "steps[7].timeout")

        let onFailure = error(Self.minimal + "  - {name: up, run: x, on_failure: panic}\n")
        #expect(onFailure?.problem.contains("rollback, abort, continue") == true)

        let duplicate = error(Self.minimal + "  - {name: checks, run: x}\n")
        #expect(duplicate?.problem.contains("names two steps") == true)

        let both = error(Self.minimal + "  - {name: x, run: y, builtin: lock}\n")
        #expect(both?.problem.contains("not both") == true)

        let missing = error("steps:\n  - {name: lock, builtin: lock}\n")
        #expect(missing?.problem.contains("builtin: preflight") == true)

        let unlockedFirst = error("steps:\n  - {name: early, run: x}\n" + Self.minimal.dropFirst("steps:\n".count))
        #expect(unlockedFirst?.problem.contains("first step must be 'builtin: lock'") == true)

        #expect(error("")?.problem.contains("empty") == true)
        #expect(error("steps: [")?.problem.contains("not valid YAML") == true)
        #expect(error("steps: 3")?.key == "steps")
    }

    @Test func templatesQuoteVariablesAndLeaveShellAndDockerBracesAlone() throws {
        let template = try PlaybookTemplate("{compose} build {services} && echo ${HOME} '{{.State.Status}}' {service}")
        #expect(template.isPerService)
        let script = template.render([.compose: ["docker", "compose", "-f", "a b.yml"], .services: ["sighook", "web hook"], .service: ["x;y"]])
        #expect(script.text == "docker compose -f 'a b.yml' build sighook 'web hook' && echo ${HOME} '{{.State.Status}}' 'x;y'")
        #expect(try !PlaybookTemplate("{compose} up -d {services}").isPerService)
    }

    @Test func stepDefaults() throws {
        // Declared: an undeclared step after wait-healthy is taken as starting the containers,
        // which wait-healthy must follow (PlaybookOrderTests).
        let playbook = try Playbook.parse(Self.minimal + "  - {name: notify, run: x, touches: nothing-running}\n", file: "deploy.yml", kind: .deploy)
        let up = try #require(playbook.steps.last)
        #expect(up.timeout == .seconds(600))
        #expect(up.retries == 0)
        #expect(up.onFailure == .rollback)
        #expect(up.line == 8)
    }
}
