"""Sharing a finished run: upload its model folder, with its model card, to a Hub model repo.

huggingface_hub does the work (`HfApi.create_repo(exist_ok=True)`, then
`upload_folder`). We choose the token and report failures in one line each:
no token, offline, a Hub that cannot be reached, a token the Hub refuses.

The token is looked for in `HF_TOKEN`, then Colab's secrets (the key icon, a
secret named HF_TOKEN), then the one `notebook_login()` or `hf auth login`
stored (`huggingface_hub.get_token`). We ask Colab ourselves because
huggingface_hub reads Colab's secrets only when IPython says it runs in Colab.
The token is handed to `HfApi` and to nothing else: it is never printed, logged
or written, and any error text that would carry it has it masked.

Example:
    >>> check_repo_id("my-name/agnews-smoke")  # a name the Hub can hold: no error
    >>> colab_secret_token() is None  # not on Colab
    True
"""

import os
import sys
from pathlib import Path

from .._compat import hub_request_errors
from ..errors import AgNewsError, setting
from ..hub import hub_is_reachable
from .folders import MODEL_DIR, is_finished, load_results, load_run_config
from .model_card import CARD_FILE, write_model_card

NOT_UPLOADED = ["training_args.bin"]  # a pickle of the TrainingArguments: not needed to load the model
NO_TOKEN = ("no Hugging Face token found: create a write token at https://huggingface.co/settings/tokens, then set "
            "it as HF_TOKEN (on Colab: the key icon, a secret named HF_TOKEN), or log in with "
            "huggingface_hub.notebook_login() in a notebook or `hf auth login` in a terminal")


def push_to_hub(run_dir, repo_id: str, private: bool | None = None) -> str:
    """Upload a finished run's model folder (model, tokenizer, README.md card) to the Hub repo `repo_id`.

    The repo is created if it does not exist (`private` as huggingface_hub defaults it);
    returns the repo's address.
    Example: ("runs/my-run", "me/agnews-minilm") -> "https://huggingface.co/me/agnews-minilm"
    """
    from huggingface_hub import HfApi

    model_dir = model_dir_to_share(run_dir)
    check_repo_id(repo_id)
    if not (token := hub_token()):
        raise AgNewsError(NO_TOKEN)
    check_hub_can_be_reached(repo_id)
    api = HfApi(token=token)
    try:
        repo_url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_url.repo_id, folder_path=model_dir, ignore_patterns=NOT_UPLOADED,
                          commit_message=f"Upload the agnews_bert run {model_dir.parent.name}")
    except hub_request_errors() as error:
        raise push_error(repo_id, error, token) from None  # `from None`: the chained error may quote the token
    return str(repo_url)


def model_dir_to_share(run_dir) -> Path:
    """The model/ folder of a finished run, with its card written first if the run predates cards."""
    run_dir = Path(run_dir).expanduser()
    if not is_finished(run_dir) or not (run_dir / MODEL_DIR).is_dir():
        raise AgNewsError(f"{run_dir} is not a finished run (no results.json or no {MODEL_DIR}/ folder); pass the "
                          "folder of a finished run, as `agnews-bert runs` lists them")
    if not (run_dir / MODEL_DIR / CARD_FILE).exists():
        write_model_card(run_dir, load_run_config(run_dir), load_results(run_dir))
    return run_dir / MODEL_DIR


def check_repo_id(repo_id: str) -> None:
    """Refuse a name the Hub cannot hold. Example: "me/agnews smoke" -> AgNewsError (a space)"""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        example = setting("repo_id", "your-name/agnews-bert-minilm")
        raise AgNewsError(f"{setting('repo_id', repo_id)} is not a Hub repo name ({str(error).splitlines()[0][:160]}); "
                          f"use your user name and a model name, like {example}", field="repo_id") from None


def hub_token() -> str | None:
    """The Hugging Face token: HF_TOKEN, else Colab's secret HF_TOKEN, else a stored login; None if none."""
    from huggingface_hub import get_token

    token = os.environ.get("HF_TOKEN") or colab_secret_token() or get_token()
    return token.strip() if token and token.strip() else None


def colab_secret_token() -> str | None:
    """Colab's secret HF_TOKEN, if this is Colab, the secret exists and the notebook may read it."""
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import userdata

        return userdata.get("HF_TOKEN") or None
    except Exception:  # Colab's SecretNotFoundError, NotebookAccessError (access refused): no token from there
        return None


def check_hub_can_be_reached(repo_id: str) -> None:
    """Fail at once, in one line, when offline mode is on or the Hub does not answer."""
    if os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE"):
        raise AgNewsError(f"cannot push to {repo_id!r}: Hugging Face offline mode is on (HF_HUB_OFFLINE=1); unset "
                          "HF_HUB_OFFLINE, connect to the network, and push again")
    if not hub_is_reachable():
        raise AgNewsError(f"cannot push to {repo_id!r}: the Hugging Face Hub cannot be reached; connect to the "
                          "network and push again (the run stays as it is)")


def push_error(repo_id: str, error: Exception, token: str) -> AgNewsError:
    """One line for a failed upload, the token masked. Example: a 401 -> "... the Hub refused the token ..." """
    status = getattr(getattr(error, "response", None), "status_code", None)
    detail = getattr(error, "server_message", None) or str(error) or type(error).__name__  # the Hub's own words
    detail = " ".join(detail.split())[:200].replace(token, "hf_***")
    if status in (401, 403):
        return AgNewsError(f"cannot push to {repo_id!r}: the Hub refused the token ({status}); use a token with write "
                           f"access (https://huggingface.co/settings/tokens) as HF_TOKEN, or log in again")
    return AgNewsError(f"cannot push to {repo_id!r} ({detail}); check the repo name and your network, then push again")
