@testable import BotOpsKit
@testable import HostState
import HostCommands
import PropertyBased
import Testing

/// Playbook files, templates and the sizes and durations deploy reads: no input traps; each is
/// accepted or refused with its own error type.
@Suite struct DeployPropertyTests {
    /// Text made of the pieces a parser cares about, plus arbitrary characters.
    static func text(_ pieces: [String], count: ClosedRange<Int> = 0...30) -> Generator<String, AnySequence<Any>> {
        let characters = Gen<String?>.element(of: pieces + ["\u{0}", "\u{7F}", "é", "🙂", "$", "`", "'", "\""])
        return Gen<String>.oneOf(
            characters.array(of: count).map { $0.compactMap { $0 }.joined() }.eraseToAny(),
            Gen.latin1.string(of: 0...40).eraseToAny()
        ).eraseToAny()
    }

    @Test func playbookFilesLoadOrNameTheirProblem() async {
        let pieces = ["steps", "name", "run", "builtin", "timeout", "retries", "on_failure", "changes", "lock", "preflight",
                      "keep-image", "checkout", "wait-healthy", "checks", "restore-image", "rollback", "abort", "continue",
                      ": ", ":", "\n", "\n  ", "\n  - ", "- ", "[", "]", "{", "}", ",", "&a", "*a", "!!str", "#",
                      "{service}", "{servce}", "{{.Id}}", "${HOME}", "10s", "99999999999999999999h", "-1", "11", "5m"]
        await propertyCheck(count: 3000, input: Self.text(pieces, count: 0...60)) { yaml in
            for kind in [Playbook.Kind.deploy, .rollback] {
                do {
                    let playbook = try Playbook.parse(yaml, file: "p.yml", kind: kind)
                    #expect(playbook.steps.first?.action == .builtin(.lock))
                } catch {
                    #expect(error is ConfigError, "\(yaml.debugDescription): \(error)")
                }
            }
        }
    }

    /// A template keeps its literal text exactly and turns each variable into exactly one word.
    @Test func templatesKeepTheirTextAndQuoteEveryValue() async {
        let pieces = ["{", "}", "{service}", "{services}", "{compose}", "${x}", "{{.State}}", "{nope}", "{_}", "$", "a", " "]
        await propertyCheck(count: 3000, input: Self.text(pieces)) { source in
            do {
                let template = try PlaybookTemplate(source)
                let rendered = template.render([:]).text
                if !template.parts.contains(where: { if case .variable = $0 { true } else { false } }) {
                    #expect(rendered == source)
                }
            } catch {
                #expect((error as? TemplateError)?.variable.isEmpty == false, "\(source.debugDescription)")
            }
        }
    }

    @Test func sizesAndGoDurationsNeverTrap() async {
        let pieces = ["0", "1", "9", "-", ".", "KB", "MB", "GB", "TB", "B", "K", "M", "G", "ms", "s", "m", "h",
                      "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e300", "nan", "inf"]
        await propertyCheck(count: 3000, input: Self.text(pieces, count: 0...6)) { text in
            if let bytes = parseByteSize(text) { #expect(bytes >= 0) }
            if let duration = parseGoDuration(text) { #expect(duration >= .zero) }
        }
    }

    /// Whatever the host prints where botops expects JSON or compose's YAML: a value or nothing, never a trap.
    @Test func hostOutputParsersNeverTrap() async {
        let pieces = ["{", "}", "[", "]", "\"", ":", ",", "services", "volumes", "external", "true", "image", "stop_grace_period",
                      "\"revision\"", "\"step\"", "\"pid\"", "99999999999999999999", "-1", "\n", "  ", "- ", "null"]
        await propertyCheck(count: 2000, input: Self.text(pieces)) { text in
            _ = LockHolder.parse(text)
            do {
                _ = try Releases.parse(text, file: "releases.json")
            } catch {
                guard case .releasesUnreadable = error as? HostStateError else { Issue.record("unexpected \(error)"); return }
            }
            _ = AuditRecord.parse(text)
            _ = HealthTracker.Observation.parse(text)
            do {
                _ = try ComposeProject.parse(text)
            } catch {
                #expect(error as? DeployError == .composeConfigUnreadable)
            }
        }
    }
}
