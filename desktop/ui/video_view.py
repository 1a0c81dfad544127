"""A video result in the window (a VistoureAI `video` node's output).

With Qt Multimedia (PySide6-Addons, the `video` extra: `pip install "restyle[video]"`) it plays
in place: play/pause, a position slider, the time. Without it the poster shows with a sentence
saying so. Either way "Open in system player" hands the stored file to the player the desktop
uses for it, and File > Save result saves the file as it is (see README, "Videos", for why Qt
Multimedia is optional: it adds about 47 MiB to the bundle).

A file the player cannot decode shows the player's reason and keeps the system player button;
nothing here raises.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QImage,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

#: Qt Multimedia's classes, imported on first use (`_load_multimedia`): loading the module and
#: its backends costs tens of milliseconds that the window's start-up need not pay.
QMediaPlayer: Any = None
QAudioOutput: Any = None
QVideoSink: Any = None
_multimedia_tried = False

INSTALL_HINT = 'pip install "restyle[video]"'


def _load_multimedia() -> bool:
    """Import Qt Multimedia once; False when it is not installed (PySide6-Addons is optional,
    README, "Videos")."""
    global QMediaPlayer, QAudioOutput, QVideoSink, _multimedia_tried
    if not _multimedia_tried:
        _multimedia_tried = True
        try:
            from PySide6.QtMultimedia import QAudioOutput as audio
            from PySide6.QtMultimedia import QMediaPlayer as player
            from PySide6.QtMultimedia import QVideoSink as sink
        except ImportError:  # pragma: no cover - depends on what is installed
            pass
        else:
            QMediaPlayer, QAudioOutput, QVideoSink = player, audio, sink
    return QMediaPlayer is not None


def multimedia_available() -> bool:
    """True when Qt Multimedia can be imported (PySide6-Addons is installed)."""
    return _load_multimedia()


def video_poster(width: int = 640, height: int = 360, text: str = "Video") -> QImage:
    """A still for a video where a picture is expected (the outputs strip, a grid cell): a dark
    frame with a play sign and a word. No frame of the video is decoded for it."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#1f2329"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = min(width, height) * 0.28
    cx, cy = width / 2, height / 2 - side * 0.15
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255, 60))
    painter.drawEllipse(int(cx - side * 0.75), int(cy - side * 0.75), int(side * 1.5),
                        int(side * 1.5))
    triangle = QPainterPath()
    triangle.moveTo(cx - side * 0.3, cy - side * 0.4)
    triangle.lineTo(cx + side * 0.45, cy)
    triangle.lineTo(cx - side * 0.3, cy + side * 0.4)
    triangle.closeSubpath()
    painter.setBrush(QColor("#ffffff"))
    painter.drawPath(triangle)
    font = QFont()
    font.setPixelSize(max(12, int(height * 0.07)))
    painter.setFont(font)
    painter.setPen(QColor("#d0d4da"))
    painter.drawText(0, int(cy + side * 0.85), width, int(height * 0.2),
                     int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), text)
    painter.end()
    return image


class _Frames(QWidget):
    """Paints the player's current frame, fitted and centred. Frames arrive through a
    QVideoSink and are painted like any picture, so they show in screenshots, under a
    virtual display and offscreen, which a native video surface (QVideoWidget) does not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoSurface")
        self.setAccessibleName("Video")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self.image = QImage()
        self.frames = 0  # frames received for the screen since the view was made

    def set_frame(self, frame: Any) -> None:
        image = frame.toImage() if frame is not None and frame.isValid() else QImage()
        if not image.isNull():
            self.image = image
            self.frames += 1
            self.update()

    def clear(self) -> None:
        self.image = QImage()
        self.update()

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#111111"))
        if not self.image.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = (self.width() - size.width()) // 2
            y = (self.height() - size.height()) // 2
            painter.drawImage(QRect(x, y, size.width(), size.height()), self.image)
        painter.end()


def _clock(ms: int) -> str:
    """"0:01.4": minutes, seconds and tenths (results are short clips)."""
    tenths = max(0, ms) // 100
    return f"{tenths // 600}:{tenths // 10 % 60:02d}.{tenths % 10}"


class VideoView(QWidget):
    """Shows one stored video: plays it (Qt Multimedia) or offers the system player."""

    #: The system player was asked to open the file (True) or nothing opened it (False).
    openedExternally = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, use_player: bool | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoView")
        self.setAccessibleName("Video result")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._path: Path | None = None
        self._poster = QImage()
        self._player: Any = None
        self._audio: Any = None
        self._surface: _Frames | None = None
        self._sink: Any = None
        use = multimedia_available() if use_player is None else use_player
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.title_label = QLabel(self)
        self.title_label.setObjectName("videoTitle")
        bold = self.title_label.font()
        bold.setBold(True)
        self.title_label.setFont(bold)
        layout.addWidget(self.title_label)

        if use and _load_multimedia():
            self._surface = _Frames(self)
            layout.addWidget(self._surface, 1)
            self._player = QMediaPlayer(self)
            self._audio = QAudioOutput(self)
            self._sink = QVideoSink(self)
            self._sink.videoFrameChanged.connect(self._surface.set_frame)
            self._player.setAudioOutput(self._audio)
            self._player.setVideoOutput(self._sink)
            self._player.playbackStateChanged.connect(self._update_controls)
            self._player.positionChanged.connect(self._on_position)
            self._player.durationChanged.connect(self._on_duration)
            self._player.errorOccurred.connect(self._on_error)
            self._player.mediaStatusChanged.connect(self._on_status)
        else:
            self._poster_label = QLabel(self)
            self._poster_label.setObjectName("videoPoster")
            self._poster_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._poster_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                             QSizePolicy.Policy.Ignored)
            layout.addWidget(self._poster_label, 1)

        self.message_label = QLabel(self)
        self.message_label.setObjectName("videoMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message_label)

        controls = QHBoxLayout()
        controls.setSpacing(8)
        self.play_button = QPushButton("Play", self)
        self.play_button.setObjectName("videoPlayButton")
        self.play_button.setToolTip("Play or pause (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.position_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.position_slider.setObjectName("videoPosition")
        self.position_slider.setAccessibleName("Position in the video")
        self.position_slider.setRange(0, 0)
        self.position_slider.sliderMoved.connect(self._seek)
        self.time_label = QLabel("0:00.0 / 0:00.0", self)
        self.time_label.setObjectName("videoTime")
        self.external_button = QPushButton("Open in system player", self)
        self.external_button.setObjectName("videoOpenExternal")
        self.external_button.setToolTip("Open the video in the program this computer uses for "
                                        "videos")
        self.external_button.clicked.connect(self.open_external)
        for widget in (self.play_button, self.position_slider, self.time_label):
            widget.setVisible(self._player is not None)
        controls.addWidget(self.play_button)
        controls.addWidget(self.position_slider, 1)
        controls.addWidget(self.time_label)
        if self._player is None:
            controls.addStretch(1)
        controls.addWidget(self.external_button)
        layout.addLayout(controls)
        self._say_default()

    # -- public interface --------------------------------------------------------------------
    def has_player(self) -> bool:
        return self._player is not None

    def path(self) -> Path | None:
        return self._path

    def set_video(self, path: Path | None, title: str = "", poster: QImage | None = None
                  ) -> None:
        """Show `path` (a stored video), titled; the same file again changes nothing."""
        self.title_label.setText(title)
        if path == self._path:
            return
        self._path = path
        self._poster = poster if poster is not None and not poster.isNull() else QImage()
        self.external_button.setEnabled(path is not None)
        self._say_default()
        if self._player is not None:
            self._player.stop()
            if self._surface is not None:
                self._surface.clear()
            self._player.setSource(QUrl.fromLocalFile(str(path)) if path else QUrl())
            self.position_slider.setValue(0)
            self._update_controls()
        else:
            self._show_poster()

    def play(self) -> None:
        if self._player is not None and self._path is not None:
            self._player.play()

    def pause(self) -> None:
        if self._player is not None:
            self._player.pause()

    def stop(self) -> None:
        """Stop playing (the view is hidden or shows another result)."""
        if self._player is not None:
            self._player.stop()

    def toggle_play(self) -> None:
        if self.is_playing():
            self.pause()
        else:
            self.play()

    def is_playing(self) -> bool:
        return (self._player is not None and self._player.playbackState()
                == QMediaPlayer.PlaybackState.PlayingState)

    def frames_shown(self) -> int:
        """How many frames reached the screen (0 without a player)."""
        return self._surface.frames if self._surface is not None else 0

    def frame(self) -> QImage:
        """The frame on screen (a null image before the first one, or without a player)."""
        return self._surface.image if self._surface is not None else QImage()

    def position_ms(self) -> int:
        return int(self._player.position()) if self._player is not None else 0

    def duration_ms(self) -> int:
        return int(self._player.duration()) if self._player is not None else 0

    def open_external(self) -> bool:
        """Hand the file to the desktop's video player; a sentence when there is none."""
        if self._path is None:
            return False
        opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._path)))
        if opened:
            self.message_label.setText(f"Opened {self._path.name} in the system's video player.")
        else:
            self.message_label.setText(
                f"No program on this computer opened {self._path.suffix.lstrip('.').upper()} "
                "videos. Save the video with File > Save result… and open it with a video "
                "player.")
        self.openedExternally.emit(opened)
        return opened

    # -- internals ---------------------------------------------------------------------------
    def _say_default(self) -> None:
        if self._player is None:
            self.message_label.setText(
                "Videos play here when Qt Multimedia is installed "
                f"({INSTALL_HINT}). Until then, open it in the system's player.")
        else:
            self.message_label.setText("")

    def _show_poster(self) -> None:
        label = getattr(self, "_poster_label", None)
        if label is None:
            return
        poster = self._poster if not self._poster.isNull() else video_poster()
        size = label.size()
        if size.width() < 2 or size.height() < 2:
            label.setPixmap(QPixmap.fromImage(poster))
            return
        label.setPixmap(QPixmap.fromImage(poster).scaled(
            size, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))

    def _update_controls(self, *_args: object) -> None:
        playing = self.is_playing()
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setEnabled(self._path is not None)
        self.position_slider.setEnabled(self._path is not None)

    def _on_position(self, position: int) -> None:
        if not self.position_slider.isSliderDown():
            self.position_slider.setValue(int(position))
        self.time_label.setText(f"{_clock(int(position))} / {_clock(self.duration_ms())}")

    def _on_duration(self, duration: int) -> None:
        self.position_slider.setRange(0, max(0, int(duration)))
        self.time_label.setText(f"{_clock(self.position_ms())} / {_clock(int(duration))}")

    def _seek(self, position: int) -> None:
        if self._player is not None:
            self._player.setPosition(int(position))

    def _on_status(self, status: Any) -> None:
        if self._player is not None and status == QMediaPlayer.MediaStatus.InvalidMedia:
            self._on_error(None, self._player.errorString())

    def _on_error(self, _error: Any, text: str) -> None:
        reason = (text or "the player gave no reason").strip().rstrip(".")
        log.info("Video %s cannot be played: %s", self._path, reason)
        self.message_label.setText(
            f"This video cannot be played here ({reason}). Open it in the system's player, or "
            "save it with File > Save result….")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_poster()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and self._player is not None:
            if not event.isAutoRepeat():
                self.toggle_play()
            event.accept()
            return
        super().keyPressEvent(event)

    def hideEvent(self, event: Any) -> None:
        self.pause()  # another result shows, or the window is minimised
        super().hideEvent(event)
