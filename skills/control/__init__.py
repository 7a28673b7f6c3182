"""Control: stop / cancel / never mind, repeat that, what can you do, and voicebox's own volume.

Setting (``[skill.control]``): ``volume_step`` (default 0.2 = 20 percent).
"""

from __future__ import annotations

from voicebox.skill import Context, Response, Setting, Skill, intent


class Control(Skill):
    """Stops speech and alarms, repeats the last answer, lists what voicebox can do, sets the volume."""

    examples = ("stop", "repeat that", "what can you do", "volume up", "set the volume to 50 percent")
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
