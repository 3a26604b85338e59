"""JupyterHub configuration for a class on one machine (issue 28; ``make hub`` starts it).

``python -m nls_lessons.publish.hub`` (``make hub``) and its :func:`running_hub` check the inputs
and pass them in ``NLS_HUB_*`` environment variables; run by hand
(``jupyterhub -f classroom/jupyterhub_config.py``) the defaults below apply. Secrets are never in
this file: the cookie secret, the proxy's token, the admin service's token and the try-out
password are generated on first start into the runtime folder (mode 0600, under the git-ignored
``build/``), by :func:`nls_lessons.publish.hub.runtime_secrets`.

For a real class, change the three marked places (README, "Hosting a class"): the authenticator
(PAM or OAuth), the spawner (system users or containers, which isolate learners), and the host.
"""
import os
import sys
from pathlib import Path

try:
    from nls_lessons.publish import hub, lab, learner_config
except ImportError:                      # run by hand from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from nls_lessons.publish import hub, lab, learner_config

c = get_config()  # noqa: F821  (JupyterHub's config loader provides it)
env = os.environ.get

runtime = Path(env("NLS_HUB_RUNTIME", str(hub.DEFAULT_RUNTIME)))
homes = Path(env("NLS_HUB_HOMES", str(runtime / "home")))
users = [hub.check_username(u.strip()) for u in env("NLS_HUB_USERS", ",".join(hub.DEFAULT_USERS)).split(",")
         if u.strip()]
course_repo = env("NLS_HUB_COURSE_REPO") or None
tokens = hub.runtime_secrets(runtime)

# -- where it listens: this machine only, unless NLS_HUB_HOST says otherwise (3: the host)
host = env("NLS_HUB_HOST", "127.0.0.1")
c.JupyterHub.bind_url = f"http://{host}:{env('NLS_HUB_PORT', str(hub.DEFAULT_PORT))}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{env('NLS_HUB_INTERNAL_PORT', '8081')}"
c.JupyterHub.db_url = f"sqlite:///{runtime / 'jupyterhub.sqlite'}"
c.JupyterHub.pid_file = str(runtime / "jupyterhub.pid")
c.JupyterHub.cookie_secret_file = str(runtime / "cookie_secret")

# -- the proxy: configurable-http-proxy from npm (python -m nls_lessons.setup hub installs it)
c.ConfigurableHTTPProxy.command = [env("NLS_HUB_PROXY") or str(hub.find_proxy())]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('NLS_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.auth_token = tokens["proxy_token"]
c.ConfigurableHTTPProxy.pid_file = str(runtime / "proxy.pid")

# -- log-in (1: the authenticator): the try-out accepts the named learners with one generated
#    password. A class: c.JupyterHub.authenticator_class = "pam" (the machine's accounts) or an
#    OAuthenticator (GitHub, Google, your university's single sign-on).
c.JupyterHub.authenticator_class = "shared-password"     # JupyterHub 5.3's DummyAuthenticator
c.SharedPasswordAuthenticator.user_password = tokens["password"]
c.Authenticator.allowed_users = set(users)

# -- servers (2: the spawner): every learner's server runs as this OS user in its own home folder.
#    That isolates nobody; a class uses the system-user spawner (c.JupyterHub.spawner_class =
#    "localprocess" with PAM accounts) or containers (dockerspawner, or Zero to JupyterHub).
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")
c.Spawner.cmd = [sys.executable, "-m", "nls_lessons.publish.hub", "learner"]
c.Spawner.args = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
c.Spawner.default_url = f"/lab/tree/{hub.lessons_folder(course_repo)}/{lab.WELCOME}"
# as make lab: one BLAS/OpenMP thread per kernel, nbgrader's lecturer tools off, RISE's settings
lab.install_lab_settings()
c.Spawner.environment = {
    **{name: "1" for name in lab.KERNEL_THREAD_ENV},
    # the widgets' hub mode (nls_lessons.widgets.HUB_ENV): an explorer's background training is
    # bounded, so one learner's r axis cannot starve the others (classroom/README.md, measured)
    "NLS_HUB": "1",
    "JUPYTER_CONFIG_PATH": str(learner_config.install_learner_config()),
    **({"NLS_HUB_COURSE_REPO": course_repo} if course_repo else {}),
    **({"NLS_HUB_COURSE_BRANCH": env("NLS_HUB_COURSE_BRANCH")} if env("NLS_HUB_COURSE_BRANCH") else {}),
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# -- services: the admin token the course's tools use (running_hub, bench/hub_load.py), and the
#    idle culler (a learner's files stay in their home; a culled server comes back with them)
c.JupyterHub.services = [
    {"name": "nls-admin", "api_token": tokens["admin_token"]},
    {"name": "idle-culler",
     "command": hub.culler_command(int(env("NLS_HUB_CULL_TIMEOUT", str(hub.CULL_TIMEOUT))),
                                   int(env("NLS_HUB_CULL_EVERY", str(hub.CULL_EVERY))))},
]
c.JupyterHub.load_roles = [
    {"name": "nls-admin", "services": ["nls-admin"],
     "scopes": ["admin:users", "admin:servers", "tokens", "list:users", "read:users",
                "list:services", "read:services"]},
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
]
