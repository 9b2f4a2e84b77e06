/// The shipped playbooks as they were before steps declared `touches:`: what an operator who
/// exported them earlier still has (a unit test and a sandbox deploy read them).
public enum PlaybooksBeforeTouches {
    /// playbooks/deploy.yml and rollback.yml as shipped before `touches:` existed.
    public static let deploy = """
        # The steps of `botops deploy`, in order. Format: playbooks/README.md.
        # A failure after the checkout changed runs rollback.yml (unless --no-rollback).
        steps:
          - name: lock
            builtin: lock
            timeout: 30s
          - name: preflight
            builtin: preflight
            timeout: 2m
            on_failure: abort
          - name: baseline
            builtin: baseline
            timeout: 5m
            on_failure: abort
          - name: keep-image
            builtin: keep-image
            timeout: 1m
            on_failure: abort
          - name: checkout
            builtin: checkout
            timeout: 2m
          - name: build
            run: "{compose} build --no-cache {services}"
            timeout: 30m
            changes: builds new images for {services} (the running containers are untouched)
          - name: stop
            builtin: stop
            timeout: 2m
          - name: up
            run: "{compose} up -d --no-deps {services}"
            timeout: 5m
            changes: starts {services} from the new images; db and its volume are not touched
          - name: wait-healthy
            builtin: wait-healthy
            timeout: 5m
          - name: checks
            builtin: checks
            timeout: 5m
        """

    public static let rollback = """
        # The steps of `botops rollback`, and of the automatic rollback after a failed deploy (which
        # already holds the lock). Format: playbooks/README.md.
        steps:
          - name: lock
            builtin: lock
            timeout: 30s
          - name: checkout
            builtin: checkout
            timeout: 2m
          - name: restore-image
            builtin: restore-image
            timeout: 30m
          - name: stop
            builtin: stop
            timeout: 2m
          - name: up
            run: "{compose} up -d --no-deps {services}"
            timeout: 5m
            changes: starts {services} from the restored images; db and its volume are not touched
          - name: wait-healthy
            builtin: wait-healthy
            timeout: 5m
          - name: checks
            builtin: checks
            timeout: 5m
        """
}
