"""Control: stop / cancel / never mind, repeat that, what can you do, and voicebox's own volume (mute too).

Setting (``[skill.control]``): ``volume_step`` (default 0.2 = 20 percent).
Muting remembers the volume in ``ctx.store`` and "mute for 15 minutes"
schedules the unmute, so both survive a restart.
"""

from __future__ import annotations

from voicebox.skill import Context, Duration, Job, Response, Setting, Skill, intent

_MAX_VOLUME = 2.0  # what ctx.set_volume allows: "10 out of 10" is the loudest


class Control(Skill):
    """Stops speech and alarms, repeats the last answer, lists what voicebox can do, sets the volume."""

    examples = ("stop", "repeat that", "what can you do", "volume up", "set the volume to 50 percent", "mute",
                "mute for 15 minutes", "volume 7 out of 10")
    settings = {"volume_step": Setting(0.2, "How much \"volume up\" and \"volume down\" change the volume.",
                                       lo=0.01, hi=2.0)}

    @intent("Stop")
    def stop(self, ctx: Context) -> Response:
        """Stop speaking and silence any ringing alarm; say nothing."""
        ctx.stop()
        return Response("")

    @intent("Repeat")
    def repeat(self, ctx: Context) -> Response:
        """Say the last reply again."""
        return Response(ctx.last_reply or "I haven't said anything yet.")

    @intent("Help")
    def help(self, ctx: Context) -> Response:
        """One or two example sentences per installed skill."""
        examples = [e for name, ex in sorted(ctx.examples().items()) if name != ctx.skill_name for e in ex[:2]]
        if not examples:
            return Response("I don't have any skills installed yet.")
        return Response("You can say things like: " + "; ".join(examples) + ".",
                        data={"examples": examples})

    def _set(self, ctx: Context, volume: float) -> Response:
        applied = ctx.set_volume(volume)
        return Response(f"Volume {round(applied * 100)} percent.", data={"volume": applied})

    @intent("VolumeUp")
    def louder(self, ctx: Context) -> Response:
        """Raise the volume one step."""
        return self._set(ctx, ctx.volume + ctx.settings["volume_step"])

    @intent("VolumeDown")
    def quieter(self, ctx: Context) -> Response:
        """Lower the volume one step."""
        return self._set(ctx, ctx.volume - ctx.settings["volume_step"])

    @intent("VolumeSet")
    def set_volume(self, ctx: Context, percent: int) -> Response:
        """Set the volume in percent (100 = normal, up to 200)."""
        return self._set(ctx, percent / 100)

    def _cancel_unmute(self, ctx: Context) -> None:
        job = ctx.store.get("unmute_job")
        if job is not None:
            ctx.cancel(int(job))
            ctx.store.delete("unmute_job")

    @intent("Mute")
    def mute(self, ctx: Context, duration: Duration | None = None) -> Response:
        """Silence voicebox's audio, for a while or until "unmute"."""
        with ctx.store.transaction():
            self._cancel_unmute(ctx)
            if ctx.store.get("muted_volume") is None and ctx.volume > 0:
                ctx.store.set("muted_volume", ctx.volume)
            if duration is not None and duration.total_s > 0:
                ctx.store.set("unmute_job", ctx.schedule(duration.total_s, "unmute_due"))
        ctx.set_volume(0.0)
        if duration is not None and duration.total_s > 0:
            return Response(f"Muted for {duration.spoken()}.", data={"volume": 0.0, "for_s": duration.total_s})
        return Response("Muted.", data={"volume": 0.0})

    def _unmute(self, ctx: Context) -> float:
        with ctx.store.transaction():
            self._cancel_unmute(ctx)
            before = ctx.store.get("muted_volume")
            ctx.store.delete("muted_volume")
        return ctx.set_volume(float(before) if before is not None else max(ctx.volume, 1.0))

    @intent("Unmute")
    def unmute(self, ctx: Context) -> Response:
        """Bring the sound back at the volume it had before muting."""
        if ctx.store.get("muted_volume") is None and ctx.volume > 0:
            return Response(f"I'm not muted. Volume {round(ctx.volume * 100)} percent.", data={"volume": ctx.volume})
        applied = self._unmute(ctx)
        return Response(f"Unmuted. Volume {round(applied * 100)} percent.", data={"volume": applied})

    def unmute_due(self, ctx: Context, job: Job) -> Response:
        """The end of "mute for N minutes"."""
        ctx.store.delete("unmute_job")  # this job has run: nothing to cancel
        applied = self._unmute(ctx)
        return Response("The sound is back on.", data={"volume": applied})

    @intent("VolumeScale")
    def volume_scale(self, ctx: Context, level: int) -> Response:
        """Set the volume on a scale of ten (10 = the loudest, 5 = normal)."""
        ctx.store.delete("muted_volume")
        self._cancel_unmute(ctx)
        applied = ctx.set_volume(level / 10 * _MAX_VOLUME)
        return Response(f"Volume {level} out of 10.", data={"volume": applied, "level": level})
