import Checks
import Cron
import HostCommands
import Remote

/// What recover needs beyond status and the nine checks, read in one command: the checkout's
/// changed and blocking files, lost executable bits, `logs/`, whether the crontab is empty and
/// whether dockerd and cron run. The database's volume and whether it holds a cluster are judged
/// after (`judgeVolume`): its name comes from deploy's probe of the container.
struct RecoverFacts: Sendable, Equatable {
    var checkoutPresent: Bool
    /// Tracked files whose working copy differs from HEAD (`git diff --name-status HEAD`): what
    /// the restore from HEAD repairs. The index is not looked at: recover leaves it (and what is
    /// staged there) as it is.
    var trackedChanges: [String]
    /// Untracked files outside `logs/` (never deleted; saved when they block a tracked path).
    var untracked: [String]
    /// Untracked files standing where a tracked path must go back.
    var blocking: [String]
    /// Files git tracks as executable that lost the bit.
    var lostModes: [String]
    var logsPresent: Bool
    /// Non-blank lines in the crontab (0 when there is none: the crontab was removed).
    var crontabLines: Int
    /// Why `crontab -l` could not be read (a failure other than "no crontab"); nil when it was.
    /// An unreadable crontab is never taken for an empty one: recover would put an old backup
    /// over the user's current lines.
    var crontabUnreadable: String?
    var dockerRunning: Bool
    /// Nil when the host cannot tell (no pgrep): never reported as stopped then.
    var cronRunning: Bool?
    /// The volume holding the database's data directory, when its container exists (deploy's
    /// `RunningDatabase`), else found from `compose config` by `Recoverer.judgeVolumeOfMissingDatabase`.
    var volume: String?
    var volumeState: VolumeState?

    /// What the database's volume holds, judged without pulling an image or starting the database.
    enum VolumeState: Equatable {
        /// It holds `PG_VERSION` (at its top or one level down, where PGDATA often points).
        case cluster
        case noCluster
        /// docker says there is no such volume.
        case missing
        /// It could not be told (docker failed, the image is not on the host): never taken for "missing".
        case unknown(String)

        static func parse(_ line: String) -> VolumeState {
            switch line {
            case "cluster": return .cluster
            case "no-cluster": return .noCluster
            case "missing": return .missing
            default: return .unknown(line.hasPrefix("unknown ") ? String(line.dropFirst(8)) : "the volume check said nothing")
            }
        }
    }

    static func command(_ config: BotOpsConfig, marker: SectionMarker) -> RemoteCommand {
        return RemoteCommand(ShellScript.lines([
            marker.start("docker"), "docker info >/dev/null 2>&1 && echo running || echo stopped",
            marker.start("cron"), CronDaemonProbe.script,
            CrontabListing.sections(marker),
            "cd \(config.path) 2>/dev/null || { \(marker.start("no-checkout")); exit 0; }",
            marker.start("tracked"), "git diff --name-status HEAD -- . ':(exclude).env' ':(exclude)logs'",
            marker.start("untracked"), "git ls-files --others --exclude-standard -- . ':(exclude)logs' ':(exclude).env'",
            marker.start("blocking"), "\(blockers) | tr '\\0' '\\n'",
            marker.start("modes"),
            "git ls-files -s | while read -r mode object stage p; do [ \"$mode\" = 100755 ] && [ -f \"$p\" ] && [ ! -x \"$p\" ] && echo \"$p\"; done; true",
            marker.start("logs"), "[ -d logs ] && echo present || echo missing",
            marker.start("end"),
        ]), timeout: .seconds(60))
    }

    /// Untracked things standing where a tracked path goes back, NUL-separated: a file, symlink
    /// or anything else that is not a directory where a tracked file's parent directory goes, and
    /// a directory where a tracked file goes (`git restore` deletes such a directory with all it
    /// holds, ignored files included, and unlinks such a file). Names pass through NUL-separated
    /// lists, never a shell word or a line, so any byte in a name is safe. `logs/` and `.env`
    /// are never looked at; a submodule's directory is not a blocker.
    static let blockers: ShellScript = #"""
        git ls-files -z -s -- . ':(exclude)logs' ':(exclude).env' | xargs -0 -r sh -c 'tab=$(printf "\\t"); for e; do p=${e#*"$tab"}
          case $e in 160000*) ;; *) if [ -d "$p" ] && [ ! -L "$p" ]; then printf "%s\0" "$p"; fi ;; esac
          d=$p; while case $d in */*) true ;; *) false ;; esac; do d=${d%/*}; if [ -L "$d" ] || { [ -e "$d" ] && [ ! -d "$d" ]; }; then printf "%s\0" "$d"; fi; done
        done' sh | sort -zu
        """#

    /// The volume the database container keeps its data on, as deploy reads it (PGDATA in a
    /// folder of the volume, the volume mounted above the data directory), and what it holds;
    /// nil when its data is on no volume.
    static func judgeVolume(of database: RunningDatabase, on runner: any CommandRunner) async throws -> (volume: String, state: VolumeState)? {
        guard case .volume(let name) = database.data else { return nil }
        let check = try await runner.run(volumeCheck(name, imageOf: database.container, subdirectory: database.dataSubdirectory))
        return (name, VolumeState.parse(check.stdout.split(separator: "\n").last.map(String.init) ?? ""))
    }

    /// Whether `volume` holds a cluster, looked at with `image` (`volumeCheckFunction`): its
    /// last line is the `VolumeState`.
    static func volumeCheck(_ volume: String, image: String, subdirectory: String = "") -> RemoteCommand {
        RemoteCommand(ShellScript.lines([volumeCheckFunction, "volume_check \(volume) \(image) \(subdirectory)"]), timeout: .seconds(60))
    }

    /// The same, with the image `container` runs.
    static func volumeCheck(_ volume: String, imageOf container: String, subdirectory: String) -> RemoteCommand {
        RemoteCommand(ShellScript.lines([
            volumeCheckFunction,
            "image=$(docker inspect --type container -f '{{.Config.Image}}' -- \(container)) || { echo 'unknown docker inspect of \(container) failed'; exit 0; }",
            "volume_check \(volume) \"$image\" \(subdirectory)",
        ]), timeout: .seconds(60))
    }

    /// `volume_check VOLUME IMAGE [SUBDIRECTORY]` prints cluster, no-cluster, missing or `unknown
    /// REASON`: a cluster's PG_VERSION is at the volume's top, one folder down (where PGDATA often
    /// points) or in SUBDIRECTORY (PGDATA's path in a volume mounted above it). Only docker's own
    /// "No such volume" means missing; the image must already be on the host (the check never
    /// pulls one), and a `docker run` that fails for its own reasons is unknown.
    static let volumeCheckFunction: ShellScript = #"""
        volume_check() {
          if ! o=$(docker volume inspect "$1" 2>&1 >/dev/null); then
            case $o in *"No such volume"*|*"no such volume"*) echo missing ;; *) echo "unknown docker volume inspect failed: $(printf '%s' "$o" | head -n 1 | cut -c1-200)" ;; esac
          elif ! docker image inspect "$2" >/dev/null 2>&1; then echo "unknown the image $2 is not on the host (recover does not pull one to look)"
          else
            o=$(docker run --rm --network none -v "$1":/data:ro --entrypoint sh "$2" -c 'for f in /data/PG_VERSION /data/*/PG_VERSION "/data/$1/PG_VERSION"; do [ -f "$f" ] && exit 0; done; exit 3' sh "${3:-}" 2>&1); st=$?
            case $st in 0) echo cluster ;; 3) echo no-cluster ;; *) echo "unknown docker run exited $st: $(printf '%s' "$o" | head -n 1 | cut -c1-200)" ;; esac
          fi
        }
        """#

    static func parse(_ output: String, marker: SectionMarker) -> RecoverFacts {
        let sections = marker.split(output)
        func lines(_ name: String) -> [String] { (sections[name] ?? []).filter { !$0.isEmpty } }
        let crontab = CrontabListing(sections: sections)
        func unreadable(_ listing: CrontabListing?) -> String? {
            switch listing {
            case nil: "crontab -l gave no answer"
            case .failed(let status, let message)?: "crontab -l exited \(status) \(message)"
            case .listed?, .noCrontab?: nil
            }
        }
        return RecoverFacts(
            checkoutPresent: sections["no-checkout"] == nil,
            trackedChanges: lines("tracked"), untracked: lines("untracked"), blocking: lines("blocking"), lostModes: lines("modes"),
            logsPresent: sections["logs"]?.first != "missing",
            crontabLines: crontab?.lines.filter { !$0.isEmpty }.count ?? 0,
            crontabUnreadable: unreadable(crontab),
            dockerRunning: sections["docker"]?.first == "running", cronRunning: CronDaemonProbe.parse(sections["cron"]?.first),
            volume: nil, volumeState: nil)
    }
}
