"""Group robots of WeCom, DingTalk and Feishu: a second way to reach association staff."""
