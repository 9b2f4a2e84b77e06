import Foundation
import HostCommands
import Remote

/// One git read of a probe, and the exit statuses that mean it answered.
struct GitRead: Equatable, Sendable {
    let section: String
    let command: ShellScript
    var accepts: Set<Int> = [0]

    static let status = GitRead(section: "status", command: "git status --porcelain --untracked-files=normal")
    /// Exit 1: HEAD is detached (not a branch), an answer; 128 is git failing.
    static let branch = GitRead(section: "branch", command: "git symbolic-ref -q --short HEAD", accepts: [0, 1])
    static let head = GitRead(section: "head", command: "git rev-parse HEAD")
    static let preflight: [GitRead] = [.status, .branch, .head]
}

/// The disks preflight reads the free space of, in the order it judges them (and status shows them).
enum PreflightDisk: String, CaseIterable, Sendable {
    /// Where docker keeps images and containers: a build fills it.
    case dockerRoot = "docker-root"
    case checkout

    /// Read from the checkout (`cd PATH` came first).
    var path: ShellScript {
        switch self {
        case .dockerRoot: "\"$(docker info -f '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)\""
        case .checkout: "."
        }
    }
}

/// Every command `deploy` and `rollback` send to the host, as values: the real run executes them
/// and `--dry-run` prints them, so the two cannot drift apart.
public struct DeployCommands: Sendable {
    public let path: String
    /// Settled in preflight when botops.yml says `compose.command: auto`.
    public var compose: ComposeInvocation
    public let state: StateDirectory
    let marker = SectionMarker()

    public init(path: String, compose: ComposeInvocation, state: StateDirectory) {
        self.path = path
        self.compose = compose
        self.state = state
    }

    /// For reading the host only (status, recover, gate): no compose spelling settled.
    static func readOnly(_ config: BotOpsConfig) -> DeployCommands {
        DeployCommands(path: config.path, compose: ComposeInvocation(program: [], envFile: config.compose.envFile, file: config.compose.file),
                       state: config.deploy.stateDirectory)
    }

    /// `cd PATH && script`: compose and git run from the checkout, as in the operator's runbook.
    func inCheckout(_ script: ShellScript) -> ShellScript {
        ShellScript("cd \(path)").and(script)
    }

    // MARK: Preflight (read-only)

    /// Who we are, the checkout's state, free disk and the release records, in one round trip.
    func preflightProbe(timeout: Duration) -> RemoteCommand {
        RemoteCommand(ShellScript.lines([
            "cd \(path) || exit 70",
            marker.start("user"), "id -un",
            marker.start("owner"), "stat -c %U .",
            gitRead(.status), gitRead(.branch), gitRead(.head),
            marker.start("disk"),
            .lines(PreflightDisk.allCases.map { FreeDisk.script($0.path, label: $0.rawValue) }),
            marker.start("releases"), readReleases,
            marker.start("end"),
        ]), timeout: timeout)
    }

    /// What `rollback --to previous` is judged from, besides the running images: the checkout's
    /// HEAD and the release records (`rollback --plan cron` reads only these).
    /// The checkout's changes, branch and HEAD alone, read and parsed as preflight reads them:
    /// what gate judges.
    func gitStateProbe(timeout: Duration) -> HostProbe<CheckoutReading> {
        let (marker, path) = (marker, path)
        let command = RemoteCommand(ShellScript.lines(["cd \(path) || exit 70", gitRead(.status), gitRead(.branch), gitRead(.head), marker.start("end")]),
                                    timeout: timeout)
        return HostProbe("git state of \(path)", command) { result in
            switch CheckoutReading.parse(result.stdoutText, termination: result.termination, marker: marker) {
            case .success(let reading): return reading
            case .failure(.noCheckout): throw UnreadableOutput("no checkout at \(path)")
            case .failure(.stoppedEarly): throw UnreadableOutput("it stopped before its end")
            }
        }
    }

    func releasesProbe(timeout: Duration) -> RemoteCommand {
        RemoteCommand(ShellScript.lines([
            "cd \(path) || exit 70",
            gitRead(.head),
            marker.start("releases"), readReleases,
            marker.start("end"),
        ]), timeout: timeout)
    }

    /// `git ARGS` as section NAME (its stdout only), then section NAME-git: its exit status and
    /// its stderr. A git that fails (a checkout it does not trust, no .git) prints nothing, which
    /// must never read as a clean tree at an empty revision.
    func gitRead(_ read: GitRead) -> ShellScript {
        .lines([marker.start(read.section), "{ err=$(\(read.command) 2>&1 >&3); st=$?; } 3>&1",
                marker.start(read.section + "-git"), #"echo "$st"; [ -z "$err" ] || printf '%s\n' "$err""#])
    }

    /// No file yet reads as no releases; an unreadable one as cat's complaint, which is refused.
    private var readReleases: ShellScript {
        "if [ -e \(state.file("releases.json")) ]; then cat \(state.file("releases.json")) 2>&1; echo; else echo '{}'; fi"
    }

    /// The resolved compose file. Its output carries the env file's values: parsed, never shown.
    /// Decides the compose spelling on the host itself (for `auto`), so it can run beside the probe.
    func composeConfig(_ config: BotOpsConfig, timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout(ComposeInvocation.onHost(config, project: compose.project, ["config"])), timeout: timeout, outputIsSecret: true)
    }

    /// The running database container's project and data mount (see `RunningDatabase`).
    func runningDatabase(_ container: String, timeout: Duration) -> RemoteCommand {
        RunningDatabase.probe(container: container, timeout: timeout)
    }

    /// `compose config` of the compose file as committed at `revision` (exit 71: no such file).
    func composeConfig(at revision: String, timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout(compose.config(at: revision, path: path)), timeout: timeout, outputIsSecret: true)
    }

    /// The same, spelled as `composeConfig(_:timeout:)` is (for `auto`, decided on the host), so
    /// it can run beside that one, before preflight has settled the spelling.
    func composeConfig(at revision: String, _ config: BotOpsConfig, timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout(ComposeInvocation.config(at: revision, path: path, config, project: compose.project)), timeout: timeout, outputIsSecret: true)
    }

    /// The files `revision` tracks that exist in the checkout outside git (ignored), and the env
    /// file whether it exists or not: a checkout would overwrite them, a rollback delete them.
    /// The env file's path as git names it (`./.env`, `conf/../.env`, `/opt/bot/.env` are `.env`),
    /// symlinks left alone: a tracked `.env` would replace the link itself.
    func trackedHostFiles(at revision: String, envFile: String, timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout("""
            { git ls-tree -r --name-only \(revision) | sed 's/^/T /' && { git ls-files --others --ignored --exclude-standard; realpath -m -s --relative-to=. -- \(envFile) || echo \(envFile); } | sed 's/^/I /'; } \
              | awk '{ k = substr($0, 3) } /^T /{ t[k] = 1 } /^I /{ i[k] = 1 } END { for (k in t) if (k in i) print k }' | sort
            """), timeout: timeout)
    }

    /// The newest container of each service, one line each: "SERVICE CONTAINER IMAGE-ID IMAGE-NAME".
    func serviceContainers(_ services: [String], timeout: Duration) -> RemoteCommand {
        RemoteCommand(.lines(services.map { service in
            """
            id=$(\(ComposeInvocation.containers(of: service, path: path)) | head -n 1)
            [ -z "$id" ] || docker inspect -f \(Self.containerFormat) "$id"
            """
        } + ["true"]), timeout: timeout)
    }

    static let containerFormat = #"{{index .Config.Labels "com.docker.compose.service"}} {{.Id}} {{.Image}} {{.Config.Image}}"#

    func lsRemote(_ branch: String, timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout("git ls-remote --heads origin \(branch)"), timeout: timeout)
    }

    // MARK: Changes

    func tag(_ image: String, as tag: String, timeout: Duration) -> RemoteCommand {
        RemoteCommand("docker tag \(image) \(tag)", timeout: timeout, effect: .changes("tags \(image) as \(tag)"))
    }

    func fetch(timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout("git fetch --prune --quiet origin"), timeout: timeout, effect: .changes("updates the checkout's origin/* branches (not the working tree)"))
    }

    /// After a fetch: what `ref` is. Prints "branch SHA" for a branch on origin, "revision SHA" for
    /// a commit, or nothing. For a branch, also whether the local branch (if any) fast-forwards to it.
    func resolve(_ ref: String, timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout("""
            if sha=$(git rev-parse -q --verify \("refs/remotes/origin/" + ref + "^{commit}")); then
              echo "branch $sha"
              if local=$(git rev-parse -q --verify \("refs/heads/" + ref + "^{commit}")); then
                if git merge-base --is-ancestor "$local" "$sha"; then echo "fast-forward $local"
                elif git merge-base --is-ancestor "$sha" "$local"; then echo "ahead $local"
                else echo "diverged $local"; fi
              fi
            elif sha=$(git rev-parse -q --verify \(ref + "^{commit}")); then
              echo "revision $sha"
            fi
            true
            """), timeout: timeout)
    }

    /// Moves the checkout to `target` (a clean tree is checked first, so nothing is lost).
    func checkout(_ target: Target, timeout: Duration) -> RemoteCommand {
        let script: ShellScript
        if let branch = target.branch {
            script = "git checkout -q -B \(branch) \(target.revision)"
        } else {
            script = "git checkout -q --detach \(target.revision)"
        }
        return RemoteCommand(inCheckout(script), timeout: timeout, effect: .changes("checks out \(target.display) in \(path)"))
    }

    func changedFiles(from: String, to: String, timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout("git diff --name-only \(from) \(to) --"), timeout: timeout)
    }

    /// Files git tracks as executable get their x bit back (a checkout with core.fileMode off, or
    /// a hand edit, can lose it; the cron entry runs the report script directly).
    func restoreExecutableModes(timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout("""
            git ls-files -s | while read -r mode object stage path; do
              if [ "$mode" = 100755 ] && [ ! -x "$path" ]; then chmod +x "$path" && echo "chmod +x $path"; fi
            done
            """), timeout: timeout, effect: .changes("sets the executable bit git records on files that lost it"))
    }

    /// `docker stop` with the service's grace period, as `compose stop` would, without compose's start-up time.
    func stop(_ service: String, container: String, grace: Duration, timeout: Duration) -> RemoteCommand {
        let seconds = Int((totalSeconds(grace)).rounded(.up))
        return RemoteCommand("docker stop -t \(seconds) \(container) >/dev/null", timeout: timeout,
                             effect: .changes("stops \(service) (SIGTERM, SIGKILL after \(seconds) s; botops waits up to \(Int(totalSeconds(timeout).rounded(.up))) s)"))
    }

    /// The stop step's timeout: the playbook's, or longer when a grace period needs it, so a
    /// service that really takes its whole `stop_grace_period` is not cut off (and rolled back).
    static func stopTimeout(playbook: Duration, graces: [Duration]) -> Duration {
        max(playbook, (graces.max() ?? .zero) + .seconds(30))
    }

    /// Starts a stopped container again as it was (an interrupted deploy never leaves a service stopped).
    func start(_ service: String, container: String, timeout: Duration) -> RemoteCommand {
        RemoteCommand("docker start \(container) >/dev/null", timeout: timeout, effect: .changes("starts \(service)'s old container again"))
    }

    func build(_ services: [String], timeout: Duration) -> RemoteCommand {
        RemoteCommand(inCheckout(compose(["build", "--no-cache"] + services)), timeout: timeout, effect: .changes("rebuilds \(services.joined(separator: ", "))"))
    }

    /// How a stopped container ended: "EXIT-CODE FINISHED-AT".
    func exitState(_ container: String, timeout: Duration) -> RemoteCommand {
        RemoteCommand("docker inspect --type container -f \(Self.exitFormat) -- \(container)", timeout: timeout)
    }

    static let exitFormat = "{{.State.ExitCode}} {{.State.FinishedAt}}"

    /// State of each container: "ID|STATUS|RESTARTING|HEALTH|RESTARTS|STARTED-AT".
    func containerStates(_ containers: [String], timeout: Duration) -> RemoteCommand {
        RemoteCommand("docker inspect --type container -f \(Self.stateFormat) -- \(containers)", timeout: timeout)
    }

    /// `.Id` is not a field of docker's typed container (`.ID`), so docker runs the template on the
    /// raw JSON, where a container without a healthcheck has no `Health` key and
    /// `{{if .State.Health}}` fails ("map has no entry for key", docker 20.10); `index` yields
    /// nothing there and works on the typed value too.
    static let stateFormat = #"{{.Id}}|{{.State.Status}}|{{.State.Restarting}}|{{with index .State "Health"}}{{.Status}}{{end}}|{{.RestartCount}}|{{.State.StartedAt}}"#

    func logTail(_ container: String, lines: Int, timeout: Duration) -> RemoteCommand {
        RemoteCommand("docker logs --tail \(lines) \(container) 2>&1", timeout: timeout)
    }

    func writeReleases(_ json: String, timeout: Duration) -> RemoteCommand {
        RemoteCommand("""
            (\(state.prepare) && printf '%s\\n' \(json) > \(state.file("releases.json.new")) && mv \(state.file("releases.json.new")) \(state.file("releases.json")))
            """, timeout: timeout, effect: .changes("records the last-known-good releases in \(state.path)/releases.json"))
    }

    /// A tag a stopped container still uses cannot go; that is no reason to fail a good deploy.
    func untag(_ tags: [String], timeout: Duration) -> RemoteCommand {
        RemoteCommand("docker image rm \(tags) >/dev/null 2>&1; true", timeout: timeout, effect: .changes("removes the tags \(tags.joined(separator: ", ")) (older than the releases kept)"))
    }
}

/// Where the checkout goes: a branch at a revision, or a bare revision (detached).
public struct Target: Sendable, Equatable, Codable {
    public var branch: String?
    public var revision: String

    public var display: String {
        branch.map { "\($0) at \(revision.prefix(12))" } ?? String(revision.prefix(12))
    }
}
